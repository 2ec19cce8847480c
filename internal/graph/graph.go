// Package graph is PyTake's client of Meta's Graph API (the WhatsApp Cloud
// API): the calls PyTake makes, Meta's error shape, and nothing else.
package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client calls the Graph API at a base URL (https://graph.facebook.com, or
// the local simulator).
type Client struct {
	base string
	http *http.Client
}

// New returns a client for base.
func New(base string, hc *http.Client) *Client {
	return &Client{base: strings.TrimRight(base, "/"), http: hc}
}

// Error is Meta's error object.
type Error struct {
	HTTPStatus   int           `json:"-"`
	RetryAfter   time.Duration `json:"-"` // from a Retry-After header, when Meta sends one
	Message      string        `json:"message"`
	Type         string        `json:"type"`
	Code         int           `json:"code"`
	ErrorSubcode int           `json:"error_subcode,omitempty"`
	FBTraceID    string        `json:"fbtrace_id,omitempty"`
	ErrorData    struct {
		Details string `json:"details,omitempty"`
	} `json:"error_data"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("graph: HTTP %d, code %d: %s", e.HTTPStatus, e.Code, e.Message)
}

// maxErrorMessage bounds the message kept of an answer that is not Meta's
// error object (an HTML error page, say).
const maxErrorMessage = 1024

// DecodeError reads a non-2xx Graph API answer: Meta's {"error":{...}}
// object when the body holds one, else the body's text (at most 1 KB) as the
// message. retryAfter is the Retry-After header (delay-seconds; anything else
// is ignored).
func DecodeError(status int, retryAfter string, body []byte) *Error {
	var wrap struct {
		Error *Error `json:"error"`
	}
	if json.Unmarshal(body, &wrap) != nil || wrap.Error == nil {
		msg := strings.TrimSpace(string(body))
		if len(msg) > maxErrorMessage {
			msg = strings.ToValidUTF8(msg[:maxErrorMessage], "")
		}
		wrap.Error = &Error{Message: msg}
	}
	wrap.Error.HTTPStatus = status
	if ra, err := strconv.Atoi(strings.TrimSpace(retryAfter)); err == nil && ra > 0 {
		wrap.Error.RetryAfter = time.Duration(min(ra, maxRetryAfterSeconds)) * time.Second
	}
	return wrap.Error
}

// maxRetryAfterSeconds caps a Retry-After (a day) so the duration cannot
// overflow.
const maxRetryAfterSeconds = 86400

// do sends a request with the bearer token and decodes a JSON answer into
// out. Non-2xx answers become *Error.
func (c *Client) do(ctx context.Context, method, u, token string, body io.Reader, out any) error {
	ct := ""
	if body != nil {
		ct = "application/json"
	}
	return c.doContent(ctx, method, u, token, ct, body, out)
}

// doContent is do with the body's content type.
func (c *Client) doContent(ctx context.Context, method, u, token, contentType string, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("graph: build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("graph: %s %s: %w", method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("graph: read answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return DecodeError(resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("graph: decode answer: %w", err)
	}
	return nil
}

// Media is what Meta says of a media id.
type Media struct {
	URL      string `json:"url"`
	MimeType string `json:"mime_type"`
	SHA256   string `json:"sha256"`
	FileSize int64  `json:"file_size"`
	ID       string `json:"id"`
}

// MediaInfo asks for a media id's short-lived download URL.
func (c *Client) MediaInfo(ctx context.Context, version, token, mediaID string) (Media, error) {
	var m Media
	err := c.do(ctx, http.MethodGet, c.base+"/"+version+"/"+url.PathEscape(mediaID), token, nil, &m)
	return m, err
}

// Download fetches media bytes from the URL MediaInfo gave, at most limit
// bytes; tooLarge is true when the file is bigger.
func (c *Client) Download(ctx context.Context, mediaURL, token string, limit int64) (body []byte, contentType string, tooLarge bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, mediaURL, nil)
	if err != nil {
		return nil, "", false, fmt.Errorf("graph: build download: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, "", false, fmt.Errorf("graph: download: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, "", false, &Error{HTTPStatus: resp.StatusCode, Message: "media download failed"}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, "", false, fmt.Errorf("graph: download: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, "", true, nil
	}
	return b, resp.Header.Get("Content-Type"), false, nil
}

// SendResult is Meta's answer to a send.
type SendResult struct {
	WAMID         string
	MessageStatus string // "accepted" for templates, when Meta says so
	WaID          string // the recipient as Meta resolved it
}

// SendMessage posts a message body (built by the outbound package) to
// POST /{version}/{phone_number_id}/messages.
func (c *Client) SendMessage(ctx context.Context, version, phoneNumberID, token string, body []byte) (SendResult, error) {
	var out struct {
		Contacts []struct {
			WaID string `json:"wa_id"`
		} `json:"contacts"`
		Messages []struct {
			ID            string `json:"id"`
			MessageStatus string `json:"message_status"`
		} `json:"messages"`
	}
	u := c.base + "/" + version + "/" + url.PathEscape(phoneNumberID) + "/messages"
	if err := c.do(ctx, http.MethodPost, u, token, bytes.NewReader(body), &out); err != nil {
		return SendResult{}, err
	}
	if len(out.Messages) == 0 || out.Messages[0].ID == "" {
		return SendResult{}, fmt.Errorf("graph: send answered no message id")
	}
	r := SendResult{WAMID: out.Messages[0].ID, MessageStatus: out.Messages[0].MessageStatus}
	if len(out.Contacts) > 0 {
		r.WaID = out.Contacts[0].WaID
	}
	return r, nil
}

// PhoneNumber is what Meta says of a business phone number.
type PhoneNumber struct {
	ID                 string `json:"id"`
	DisplayPhoneNumber string `json:"display_phone_number"`
	VerifiedName       string `json:"verified_name"`
	QualityRating      string `json:"quality_rating"`
	// Throughput is the number's throughput level: STANDARD (80
	// messages/s), HIGH (up to 1,000), NOT_APPLICABLE.
	Throughput struct {
		Level string `json:"level"`
	} `json:"throughput"`
}

// GetPhoneNumber asks for GET /{version}/{phone_number_id}.
func (c *Client) GetPhoneNumber(ctx context.Context, version, phoneNumberID, token string) (PhoneNumber, error) {
	var p PhoneNumber
	u := c.base + "/" + version + "/" + url.PathEscape(phoneNumberID) + "?fields=display_phone_number,verified_name,quality_rating,throughput"
	err := c.do(ctx, http.MethodGet, u, token, nil, &p)
	return p, err
}

// PhoneNumbersOfWABA lists the phone number ids of a WhatsApp Business
// Account, GET /{version}/{waba_id}/phone_numbers, following Meta's cursor
// paging (at most maxPages pages of 100).
func (c *Client) PhoneNumbersOfWABA(ctx context.Context, version, wabaID, token string) ([]string, error) {
	const maxPages = 10
	var ids []string
	after := ""
	for page := 0; page < maxPages; page++ {
		q := url.Values{"fields": {"id"}, "limit": {"100"}}
		if after != "" {
			q.Set("after", after)
		}
		var out struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
			Paging struct {
				Cursors struct {
					After string `json:"after"`
				} `json:"cursors"`
				Next string `json:"next"`
			} `json:"paging"`
		}
		u := c.base + "/" + version + "/" + url.PathEscape(wabaID) + "/phone_numbers?" + q.Encode()
		if err := c.do(ctx, http.MethodGet, u, token, nil, &out); err != nil {
			return nil, err
		}
		for _, d := range out.Data {
			ids = append(ids, d.ID)
		}
		// Meta sends "next" only when there is another page.
		if out.Paging.Next == "" || out.Paging.Cursors.After == "" || len(out.Data) == 0 {
			break
		}
		after = out.Paging.Cursors.After
	}
	return ids, nil
}

// TemplatePage is one page of GET /{waba_id}/message_templates: the
// templates as raw JSON objects (Meta's shape, kept whole) and the cursor
// of the next page ("" at the end).
type TemplatePage struct {
	Templates []json.RawMessage
	After     string
}

// templateFields are the fields asked of each template.
const templateFields = "id,name,language,status,category,parameter_format,components,quality_score,rejected_reason"

// ListTemplates reads one page (at most limit templates) of a WABA's
// message templates, after the given cursor.
func (c *Client) ListTemplates(ctx context.Context, version, wabaID, token, after string, limit int) (TemplatePage, error) {
	q := url.Values{"fields": {templateFields}, "limit": {strconv.Itoa(limit)}}
	if after != "" {
		q.Set("after", after)
	}
	var out struct {
		Data   []json.RawMessage `json:"data"`
		Paging struct {
			Cursors struct {
				After string `json:"after"`
			} `json:"cursors"`
			Next string `json:"next"`
		} `json:"paging"`
	}
	u := c.base + "/" + version + "/" + url.PathEscape(wabaID) + "/message_templates?" + q.Encode()
	if err := c.do(ctx, http.MethodGet, u, token, nil, &out); err != nil {
		return TemplatePage{}, err
	}
	p := TemplatePage{Templates: out.Data}
	// Meta sends "next" only when there is another page.
	if out.Paging.Next != "" && len(out.Data) > 0 {
		p.After = out.Paging.Cursors.After
	}
	return p, nil
}

// CreatedTemplate is Meta's answer to a template creation.
type CreatedTemplate struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Category string `json:"category"`
}

// CreateTemplate posts a template (Meta's request shape) to
// POST /{waba_id}/message_templates.
func (c *Client) CreateTemplate(ctx context.Context, version, wabaID, token string, body []byte) (CreatedTemplate, error) {
	var out CreatedTemplate
	u := c.base + "/" + version + "/" + url.PathEscape(wabaID) + "/message_templates"
	if err := c.do(ctx, http.MethodPost, u, token, bytes.NewReader(body), &out); err != nil {
		return CreatedTemplate{}, err
	}
	if out.ID == "" {
		return CreatedTemplate{}, fmt.Errorf("graph: template creation answered no id")
	}
	return out, nil
}

// DeleteTemplate deletes a template by name (every language), or one
// language's template when hsmID (its id) is given:
// DELETE /{waba_id}/message_templates?name=...[&hsm_id=...].
func (c *Client) DeleteTemplate(ctx context.Context, version, wabaID, token, name, hsmID string) error {
	q := url.Values{"name": {name}}
	if hsmID != "" {
		q.Set("hsm_id", hsmID)
	}
	u := c.base + "/" + version + "/" + url.PathEscape(wabaID) + "/message_templates?" + q.Encode()
	var out struct {
		Success bool `json:"success"`
	}
	if err := c.do(ctx, http.MethodDelete, u, token, nil, &out); err != nil {
		return err
	}
	if !out.Success {
		return fmt.Errorf("graph: template deletion did not answer success")
	}
	return nil
}

// UploadMedia uploads a file to POST /{phone_number_id}/media (multipart:
// messaging_product=whatsapp, type, file) and returns its media id.
func (c *Client) UploadMedia(ctx context.Context, version, phoneNumberID, token, mimeType, filename string, data []byte) (string, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("messaging_product", "whatsapp")
	_ = mw.WriteField("type", mimeType)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, filename))
	h.Set("Content-Type", mimeType)
	part, err := mw.CreatePart(h)
	if err != nil {
		return "", fmt.Errorf("graph: build upload: %w", err)
	}
	if _, err := part.Write(data); err != nil {
		return "", fmt.Errorf("graph: build upload: %w", err)
	}
	if err := mw.Close(); err != nil {
		return "", fmt.Errorf("graph: build upload: %w", err)
	}
	u := c.base + "/" + version + "/" + url.PathEscape(phoneNumberID) + "/media"
	var out struct {
		ID string `json:"id"`
	}
	if err := c.doContent(ctx, http.MethodPost, u, token, mw.FormDataContentType(), &buf, &out); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", fmt.Errorf("graph: media upload answered no id")
	}
	return out.ID, nil
}

// MarkRead marks an inbound message read (its blue ticks), with a typing
// indicator when typing is set: POST /{phone_number_id}/messages
// {"messaging_product":"whatsapp","status":"read","message_id":...}.
func (c *Client) MarkRead(ctx context.Context, version, phoneNumberID, token, wamid string, typing bool) error {
	body := map[string]any{"messaging_product": "whatsapp", "status": "read", "message_id": wamid}
	if typing {
		body["typing_indicator"] = map[string]string{"type": "text"}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("graph: encode read receipt: %w", err)
	}
	var out struct {
		Success bool `json:"success"`
	}
	u := c.base + "/" + version + "/" + url.PathEscape(phoneNumberID) + "/messages"
	if err := c.do(ctx, http.MethodPost, u, token, bytes.NewReader(b), &out); err != nil {
		return err
	}
	if !out.Success {
		return fmt.Errorf("graph: read receipt did not answer success")
	}
	return nil
}
