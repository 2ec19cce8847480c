package store

// The single-table design: every key builder and every access pattern lives in
// this file, so the table's shape can be read in one place.
//
// Table: pk (S, hash), sk (S, range); gsi1 over gsi1pk/gsi1sk (projection ALL);
// TTL attribute expires_at (unix seconds; DynamoDB deletes late, so readers
// also filter on it). Every item carries `type`.
//
// | item                | pk                     | sk                 | gsi1pk / gsi1sk | notes                              |
// |---------------------|------------------------|--------------------|-----------------|------------------------------------|
// | organisation        | ORG#<org>              | ORG                |                 |                                    |
// | API key (by hash)   | KEY#<sha256 hex>       | KEY                |                 | auth lookup; org id, key id, revoked_at |
// | API key (in org)    | ORG#<org>              | APIKEY#<key id>    |                 | listing; prefix, last4, hash, times |
//
// Access patterns:
//  1. Organisation by id: GetItem ORG#<org> / ORG.
//  2. Authenticate a key: GetItem KEY#<sha256(key)> / KEY (consistent read).
//  3. List an organisation's API keys: Query pk = ORG#<org>, sk begins_with APIKEY#.
//  4. One API key of an organisation (revoke): GetItem ORG#<org> / APIKEY#<id>.
//
// Uniqueness and dedupe are decided by conditional writes, never by
// read-then-write; writes that touch several items use one transaction.

const (
	attrPK      = "pk"
	attrSK      = "sk"
	attrGSI1PK  = "gsi1pk"
	attrGSI1SK  = "gsi1sk"
	attrType    = "type"
	attrExpires = "expires_at"

	// IndexGSI1 is the table's first global secondary index.
	IndexGSI1 = "gsi1"
)

// Item types.
const (
	typeOrganization = "organization"
	typeKeyHash      = "api_key_hash"
	typeAPIKey       = "api_key"
)

func orgPK(org string) string   { return "ORG#" + org }
func orgSK() string             { return "ORG" }
func keyHashPK(h string) string { return "KEY#" + h }
func keyHashSK() string         { return "KEY" }
func apiKeySK(id string) string { return "APIKEY#" + id }
func apiKeySKPrefix() string    { return "APIKEY#" }
