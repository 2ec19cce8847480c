// Package salesforce is PyTake's Salesforce client: an access token from
// the OAuth 2.0 client credentials flow (a connected app run as its
// integration user), cached and renewed on INVALID_SESSION_ID, and the REST
// API's sObject creates (Lead, Task) and a SOQL query.
package salesforce

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// DefaultAPIVersion is the REST API version PyTake calls.
const DefaultAPIVersion = "v62.0"

// Credentials are an organisation's connected app.
type Credentials struct {
	LoginURL     string // https://<MyDomain>.my.salesforce.com
	ClientID     string
	ClientSecret string
}

func (c Credentials) cacheKey() string {
	h := sha256.Sum256([]byte(c.LoginURL + "\x00" + c.ClientID + "\x00" + c.ClientSecret))
	return hex.EncodeToString(h[:])
}

// Error is an answer of Salesforce other than 2xx, or a failed call
// (Status 0). Code is Salesforce's errorCode (DUPLICATES_DETECTED,
// REQUIRED_FIELD_MISSING, REQUEST_LIMIT_EXCEEDED, INVALID_SESSION_ID, ...)
// or the OAuth error (invalid_client).
type Error struct {
	Status  int
	Code    string
	Message string
	Fields  []string
	cause   error
}

func (e *Error) Error() string {
	if e.Status == 0 {
		return "salesforce: " + e.Message
	}
	return fmt.Sprintf("salesforce: %d %s: %s", e.Status, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.cause }

// Retryable: network failures, 5xx and the API request limit; the rest
// (duplicates rule, required fields, validation, bad credentials) will fail
// the same way again.
func (e *Error) Retryable() bool {
	return e.Status == 0 || e.Status >= 500 || e.Code == "REQUEST_LIMIT_EXCEEDED" || e.Status == http.StatusTooManyRequests
}

// Credentials: the connected app's credentials, login URL or session were
// refused (every call will fail until the integration is configured again).
func (e *Error) Credentials() bool {
	switch e.Code {
	case "invalid_client", "invalid_client_id", "invalid_grant", "unauthorized_client", "inactive_user", "inactive_org",
		"TOKEN_REFUSED", "TOKEN_UNREADABLE", "INVALID_LOGIN_URL", "INVALID_INSTANCE_URL", "INVALID_SESSION_ID":
		return true
	}
	return e.Status == 401
}

// AsError finds a *Error in err.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// CheckURL says whether u may be called: https on a Salesforce host
// (*.salesforce.com, *.force.com), or, when allowLoopback (the local
// stack), http on a loopback address.
func CheckURL(u string, allowLoopback bool) error {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || p.User != nil || (p.Path != "" && p.Path != "/") || p.RawQuery != "" || p.Fragment != "" {
		return fmt.Errorf("must be an origin like https://yourdomain.my.salesforce.com")
	}
	host := strings.ToLower(p.Hostname())
	if allowLoopback && p.Scheme == "http" {
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			return nil
		}
	}
	if p.Scheme != "https" {
		return fmt.Errorf("must be https")
	}
	for _, suffix := range []string{".salesforce.com", ".force.com"} {
		if strings.HasSuffix(host, suffix) && len(host) > len(suffix) {
			return nil
		}
	}
	return fmt.Errorf("must be a Salesforce host (your My Domain, https://<name>.my.salesforce.com)")
}

type token struct {
	access   string
	instance string
}

// Client calls Salesforce for any number of organisations, caching each
// connected app's token.
type Client struct {
	http          *http.Client
	version       string
	allowLoopback bool
	mu            sync.Mutex
	tokens        map[string]token
}

// NewClient returns a client; allowLoopback lets the local stack's
// simulator be called over http.
func NewClient(hc *http.Client, allowLoopback bool) *Client {
	return &Client{http: hc, version: DefaultAPIVersion, allowLoopback: allowLoopback, tokens: map[string]token{}}
}

// Token gets an access token with the client credentials flow (cached).
func (c *Client) Token(ctx context.Context, cr Credentials) (token, error) {
	k := cr.cacheKey()
	c.mu.Lock()
	t, ok := c.tokens[k]
	c.mu.Unlock()
	if ok {
		return t, nil
	}
	if err := CheckURL(cr.LoginURL, c.allowLoopback); err != nil {
		return token{}, &Error{Status: 400, Code: "INVALID_LOGIN_URL", Message: "login_url " + err.Error()}
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {cr.ClientID}, "client_secret": {cr.ClientSecret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(cr.LoginURL, "/")+"/services/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return token{}, fmt.Errorf("salesforce: token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	status, raw, err := c.send(req)
	if err != nil {
		return token{}, err
	}
	if status/100 != 2 {
		var oe struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(raw, &oe)
		e := &Error{Status: status, Code: oe.Error, Message: oe.Description}
		if e.Code == "" {
			e.Code, e.Message = "TOKEN_REFUSED", http.StatusText(status)
		}
		return token{}, e
	}
	var out struct {
		AccessToken string `json:"access_token"`
		InstanceURL string `json:"instance_url"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.AccessToken == "" {
		return token{}, &Error{Status: status, Code: "TOKEN_UNREADABLE", Message: "the token answer has no access_token"}
	}
	if err := CheckURL(strings.TrimRight(out.InstanceURL, "/"), c.allowLoopback); err != nil {
		return token{}, &Error{Status: status, Code: "INVALID_INSTANCE_URL", Message: "instance_url " + err.Error()}
	}
	t = token{access: out.AccessToken, instance: strings.TrimRight(out.InstanceURL, "/")}
	c.mu.Lock()
	c.tokens[k] = t
	c.mu.Unlock()
	return t, nil
}

func (c *Client) forget(cr Credentials) {
	c.mu.Lock()
	delete(c.tokens, cr.cacheKey())
	c.mu.Unlock()
}

// Create creates an sObject (Lead, Task) and answers its id. An expired
// token (INVALID_SESSION_ID) is renewed once.
func (c *Client) Create(ctx context.Context, cr Credentials, object string, fields map[string]any) (string, error) {
	var out struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
	}
	if err := c.call(ctx, cr, http.MethodPost, "/sobjects/"+object+"/", fields, &out); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", &Error{Status: 201, Code: "NO_ID", Message: "the create answer has no id"}
	}
	return out.ID, nil
}

// QueryIDs runs a SOQL query and answers the records' Id.
func (c *Client) QueryIDs(ctx context.Context, cr Credentials, soql string) ([]string, error) {
	var out struct {
		Records []struct {
			ID string `json:"Id"`
		} `json:"records"`
	}
	if err := c.call(ctx, cr, http.MethodGet, "/query/?"+url.Values{"q": {soql}}.Encode(), nil, &out); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(out.Records))
	for _, r := range out.Records {
		ids = append(ids, r.ID)
	}
	return ids, nil
}

// Quote makes s a SOQL string literal.
func Quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "'" + r.Replace(s) + "'"
}

func (c *Client) call(ctx context.Context, cr Credentials, method, path string, in, out any) error {
	for attempt := 0; ; attempt++ {
		t, err := c.Token(ctx, cr)
		if err != nil {
			return err
		}
		var body io.Reader
		if in != nil {
			b, err := json.Marshal(in)
			if err != nil {
				return fmt.Errorf("salesforce: encode: %w", err)
			}
			body = bytes.NewReader(b)
		}
		req, err := http.NewRequestWithContext(ctx, method, t.instance+"/services/data/"+c.version+path, body)
		if err != nil {
			return fmt.Errorf("salesforce: request: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+t.access)
		req.Header.Set("Accept", "application/json")
		if in != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		status, raw, err := c.send(req)
		if err != nil {
			return err
		}
		if status/100 == 2 {
			if out != nil {
				if err := json.Unmarshal(raw, out); err != nil {
					return &Error{Status: status, Code: "UNREADABLE", Message: err.Error()}
				}
			}
			return nil
		}
		e := restError(status, raw)
		if e.Code == "INVALID_SESSION_ID" || status == http.StatusUnauthorized {
			c.forget(cr)
			if attempt == 0 {
				continue
			}
		}
		return e
	}
}

func (c *Client) send(req *http.Request) (int, []byte, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, &Error{Message: "call failed: " + err.Error(), cause: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, &Error{Message: "read answer: " + err.Error(), cause: err}
	}
	return resp.StatusCode, raw, nil
}

// restError reads Salesforce's error array [{"message","errorCode","fields"}].
func restError(status int, raw []byte) *Error {
	var list []struct {
		Message   string   `json:"message"`
		ErrorCode string   `json:"errorCode"`
		Fields    []string `json:"fields"`
	}
	e := &Error{Status: status}
	if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
		e.Code, e.Message, e.Fields = list[0].ErrorCode, list[0].Message, list[0].Fields
	}
	if e.Code == "" {
		e.Code, e.Message = "HTTP_"+fmt.Sprint(status), http.StatusText(status)
	}
	return e
}

// LeadName splits a contact's name as the guide does: the first word is
// FirstName and the last is LastName (one word: LastName only); with no
// name, LastName is the fallback (Salesforce requires it).
func LeadName(name, fallback string) (first, last string) {
	words := strings.Fields(name)
	switch len(words) {
	case 0:
		return "", fallback
	case 1:
		return "", words[0]
	}
	return words[0], words[len(words)-1]
}

// activityDate is a Task's ActivityDate (a date, UTC).
func activityDate(t time.Time) string { return t.UTC().Format("2006-01-02") }

// TaskFields is a completed Task about a lead.
func TaskFields(leadID, subject, description string, at time.Time) map[string]any {
	return map[string]any{"WhoId": leadID, "Subject": subject, "Status": "Completed", "Description": description,
		"ActivityDate": activityDate(at), "Priority": "Normal"}
}
