package hubspot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// MaxBatch is the most events HubSpot sends in one request.
const MaxBatch = 100

// Subscription types PyTake acts on.
const (
	ContactCreation       = "contact.creation"
	ContactPropertyChange = "contact.propertyChange"
	ContactDeletion       = "contact.deletion"
)

// Event is one element of a webhook batch, as HubSpot sends it. eventId is
// not unique on its own: Key identifies an event across HubSpot's retries.
type Event struct {
	EventID          int64  `json:"eventId"`
	SubscriptionID   int64  `json:"subscriptionId"`
	PortalID         int64  `json:"portalId"`
	AppID            int64  `json:"appId"`
	OccurredAt       int64  `json:"occurredAt"` // unix milliseconds
	SubscriptionType string `json:"subscriptionType"`
	AttemptNumber    int    `json:"attemptNumber"`
	ObjectID         int64  `json:"objectId"`
	ChangeSource     string `json:"changeSource,omitempty"`
	PropertyName     string `json:"propertyName,omitempty"`
	PropertyValue    string `json:"propertyValue,omitempty"`
}

// Key is the event's identity for deduplication: the subscription, the
// event id, the object and when it happened (a retry repeats all four).
func (e Event) Key() string {
	return strconv.FormatInt(e.SubscriptionID, 10) + "-" + strconv.FormatInt(e.EventID, 10) + "-" +
		strconv.FormatInt(e.ObjectID, 10) + "-" + strconv.FormatInt(e.OccurredAt, 10)
}

// Portal is the event's portal (account) id as text: what an integration
// is found by.
func (e Event) Portal() string { return strconv.FormatInt(e.PortalID, 10) }

// ParseBatch reads a webhook body: a JSON array of 1 to MaxBatch events,
// each with a portalId, eventId, subscriptionType and objectId.
func ParseBatch(body []byte) ([]Event, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '[' {
		return nil, fmt.Errorf("the body must be a JSON array of HubSpot events")
	}
	var evs []Event
	if err := json.Unmarshal(trimmed, &evs); err != nil {
		return nil, fmt.Errorf("the body is not a batch of HubSpot events: %v", err)
	}
	if len(evs) == 0 || len(evs) > MaxBatch {
		return nil, fmt.Errorf("a batch holds 1 to %d events, not %d", MaxBatch, len(evs))
	}
	for i, e := range evs {
		switch {
		case e.PortalID <= 0:
			return nil, fmt.Errorf("event %d: portalId is required", i)
		case e.SubscriptionType == "":
			return nil, fmt.Errorf("event %d: subscriptionType is required", i)
		case e.ObjectID <= 0:
			return nil, fmt.Errorf("event %d: objectId is required", i)
		}
	}
	return evs, nil
}
