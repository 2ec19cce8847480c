package salesforce

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		url      string
		loopback bool
		ok       bool
	}{
		{"https://acme.my.salesforce.com", false, true},
		{"https://acme--dev.sandbox.my.salesforce.com", false, true},
		{"https://acme.my.site.force.com", false, true},
		{"https://salesforce.com", false, false},
		{"https://.salesforce.com", false, false},
		{"https://evilsalesforce.com", false, false},
		{"https://acme.my.salesforce.com.evil.example", false, false},
		{"http://acme.my.salesforce.com", false, false},
		{"https://user@acme.my.salesforce.com", false, false},
		{"https://acme.my.salesforce.com/x", false, false},
		{"https://acme.my.salesforce.com?x=1", false, false},
		{"http://127.0.0.1:8080", false, false},
		{"http://127.0.0.1:8080", true, true},
		{"http://[::1]:8080", true, true},
		{"http://10.0.0.1", true, false},
		{"http://localhost.evil.example", true, false},
		{"", false, false},
		{"::", false, false},
	} {
		err := CheckURL(tc.url, tc.loopback)
		assert.Equal(t, tc.ok, err == nil, "%q loopback=%v: %v", tc.url, tc.loopback, err)
	}
}

func TestLeadName(t *testing.T) {
	for _, tc := range []struct{ name, first, last string }{
		{"Maria da Silva", "Maria", "Silva"},
		{"  Maria   Silva ", "Maria", "Silva"},
		{"Maria", "", "Maria"},
		{"", "", "+5511999999999"},
	} {
		f, l := LeadName(tc.name, "+5511999999999")
		assert.Equal(t, tc.first, f, tc.name)
		assert.Equal(t, tc.last, l, tc.name)
	}
}

func TestErrorKinds(t *testing.T) {
	for _, tc := range []struct {
		e                  Error
		retry, credentials bool
	}{
		{Error{Status: 0}, true, false},
		{Error{Status: 503, Code: "HTTP_503"}, true, false},
		{Error{Status: 403, Code: "REQUEST_LIMIT_EXCEEDED"}, true, false},
		{Error{Status: 400, Code: "DUPLICATES_DETECTED"}, false, false},
		{Error{Status: 400, Code: "REQUIRED_FIELD_MISSING"}, false, false},
		{Error{Status: 401, Code: "INVALID_SESSION_ID"}, false, true},
		{Error{Status: 400, Code: "invalid_client"}, false, true},
	} {
		assert.Equal(t, tc.retry, tc.e.Retryable(), "%+v", tc.e)
		assert.Equal(t, tc.credentials, tc.e.Credentials(), "%+v", tc.e)
	}
}

func TestQuote(t *testing.T) {
	assert.Equal(t, `'+5511'`, Quote("+5511"))
	assert.Equal(t, `'a\' OR Id != \'x'`, Quote("a' OR Id != 'x"))
	assert.Equal(t, `'back\\slash'`, Quote(`back\slash`))
}
