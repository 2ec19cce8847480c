package event

// CRM sync events (internal/crmsync).
const (
	CRMContactSynced = "crm.contact_synced"
	CRMSyncFailed    = "crm.sync_failed"
)

// CRMSyncedData is crm.contact_synced's data: what the sync created or
// linked in a CRM (or, inbound, in PyTake) for a contact.
type CRMSyncedData struct {
	CRM       string      `json:"crm"`       // hubspot | salesforce
	Direction string      `json:"direction"` // inbound (CRM to PyTake) | outbound (PyTake to CRM)
	Object    string      `json:"object"`    // contact | lead | note | task
	CRMID     string      `json:"crm_id"`    // the CRM's id of the object
	Contact   ContactView `json:"contact"`
}

// CRMFailedData is crm.sync_failed's data: work the sync gave up on (the
// CRM refused it, or a HubSpot contact had no usable phone). Retryable
// failures (rate limits, 5xx) are retried, not reported.
type CRMFailedData struct {
	CRM     string       `json:"crm"`
	Object  string       `json:"object"`
	Code    string       `json:"code"`    // the CRM's error code (DUPLICATES_DETECTED, unauthorized, no_phone, ...)
	Message string       `json:"message"` // the CRM's message, or why PyTake skipped it
	CRMID   string       `json:"crm_id,omitempty"`
	Contact *ContactView `json:"contact,omitempty"`
}
