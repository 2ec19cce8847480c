package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"unicode"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/store"
)

// maxUploadBytes is the most POST /v1/media takes: a Lambda request event
// is at most 6 MB, and a binary body arrives in it base64-encoded (4/3 of
// its size).
const maxUploadBytes = 4 << 20

// uploadKind is what Meta accepts of a media type: the message type it is
// sent as and its size limit.
type uploadKind struct {
	kind string
	max  int
}

// uploadTypes are the media types Meta's /media endpoint takes, with
// Meta's size limits (stickers: 500 KB animated, 100 KB static; PyTake
// cannot tell them apart and allows 500 KB).
var uploadTypes = map[string]uploadKind{
	"image/jpeg":                    {"image", 5 << 20},
	"image/png":                     {"image", 5 << 20},
	"image/webp":                    {"sticker", 500 << 10},
	"video/mp4":                     {"video", 16 << 20},
	"video/3gpp":                    {"video", 16 << 20},
	"audio/aac":                     {"audio", 16 << 20},
	"audio/amr":                     {"audio", 16 << 20},
	"audio/mpeg":                    {"audio", 16 << 20},
	"audio/mp4":                     {"audio", 16 << 20},
	"audio/ogg":                     {"audio", 16 << 20},
	"text/plain":                    {"document", 100 << 20},
	"application/pdf":               {"document", 100 << 20},
	"application/msword":            {"document", 100 << 20},
	"application/vnd.ms-excel":      {"document", 100 << 20},
	"application/vnd.ms-powerpoint": {"document", 100 << 20},
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   {"document", 100 << 20},
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         {"document", 100 << 20},
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": {"document", 100 << 20},
}

// sniffed are the types whose first bytes are checked against the
// declared type (Meta refuses a file that is not what it says, later and
// less clearly).
var sniffed = map[string]bool{"image/jpeg": true, "image/png": true, "image/webp": true, "application/pdf": true}

// upload is a file to upload.
type upload struct {
	data     []byte
	mimeType string
	filename string
}

// readUpload reads the file of POST /v1/media: a multipart form (a "file"
// part with its Content-Type, or a "type" field naming it) or the raw
// bytes with their Content-Type (?filename= names it).
func readUpload(r *httpapi.Request) (upload, error) {
	ct := r.Header("content-type")
	if ct == "" {
		return upload{}, apperr.New(apperr.UnsupportedMedia, "send the file with its Content-Type (image/jpeg, application/pdf, ...) or as multipart/form-data")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return upload{}, apperr.Newf(apperr.UnsupportedMedia, "the Content-Type %q cannot be read", ct)
	}
	if mt != "multipart/form-data" {
		return upload{data: r.Body, mimeType: mt, filename: r.Query.Get("filename")}, nil
	}
	mr := multipart.NewReader(bytes.NewReader(r.Body), params["boundary"])
	var u upload
	declared := ""
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return upload{}, apperr.New(apperr.Invalid, "the multipart body cannot be read: "+err.Error()).WithCode("invalid_request")
		}
		b, err := io.ReadAll(io.LimitReader(p, maxUploadBytes+1))
		if err != nil {
			return upload{}, apperr.New(apperr.Invalid, "the multipart body cannot be read: "+err.Error()).WithCode("invalid_request")
		}
		switch p.FormName() {
		case "file":
			if u.data != nil {
				return upload{}, apperr.Field("file", "must be given once")
			}
			u.data, u.filename = b, p.FileName()
			if pt := p.Header.Get("Content-Type"); pt != "" {
				if m, _, err := mime.ParseMediaType(pt); err == nil {
					u.mimeType = m
				}
			}
		case "type":
			declared = strings.TrimSpace(string(b))
		case "messaging_product":
		default:
			return upload{}, apperr.Field(p.FormName(), "is not a field of an upload (file, type, messaging_product)")
		}
	}
	if u.data == nil {
		return upload{}, apperr.Field("file", "is required: the file's part of the form")
	}
	if declared != "" {
		u.mimeType = strings.ToLower(declared)
	}
	return u, nil
}

// uploadMedia uploads a file to the organisation's number at Meta after
// checking Meta's types and size limits, and answers the media id a send
// can use ({"type":"image","image":{"id":"..."}}); Meta keeps it 30 days.
func (s *Server) uploadMedia(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	u, err := readUpload(r)
	if err != nil {
		return nil, err
	}
	k, ok := uploadTypes[u.mimeType]
	switch {
	case !ok:
		return nil, apperr.Newf(apperr.UnsupportedMedia, "WhatsApp does not take %q files; it takes jpeg and png images, webp stickers, mp4 and 3gpp videos, aac, amr, mpeg, mp4 and ogg audio, and text, pdf and office documents", u.mimeType)
	case len(u.data) == 0:
		return nil, apperr.Field("file", "is empty")
	case len(u.data) > k.max:
		return nil, apperr.Newf(apperr.TooLarge, "the %s is %d bytes; WhatsApp takes %s files of at most %d bytes", k.kind, len(u.data), u.mimeType, k.max).WithCode("media_too_large")
	case len(u.data) > maxUploadBytes:
		return nil, apperr.Newf(apperr.TooLarge, "the file is %d bytes; this endpoint takes at most %d", len(u.data), maxUploadBytes).WithCode("media_too_large")
	case sniffed[u.mimeType] && !sniffMatches(u.mimeType, u.data):
		return nil, apperr.Field("file", fmt.Sprintf("is not a %s file (its first bytes say %s)", u.mimeType, http.DetectContentType(u.data)))
	}
	name := safeFilename(u.filename, k.kind)
	c, version, err := s.metaAccount(ctx, r.OrgID(), false)
	if err != nil {
		return nil, err
	}
	id, err := s.graph.UploadMedia(ctx, version, c.PhoneNumberID, c.AccessToken, u.mimeType, name, u.data)
	if err != nil {
		return nil, metaRefused(err, "upload")
	}
	return httpapi.JSON(http.StatusCreated, map[string]any{"id": id, "type": k.kind, "mime_type": u.mimeType, "size": len(u.data), "filename": name})
}

func sniffMatches(mimeType string, data []byte) bool {
	got, _, _ := mime.ParseMediaType(http.DetectContentType(data))
	return got == mimeType
}

// safeFilename keeps a file name's printable characters (no path, quotes,
// controls, nor format characters such as bidi overrides that disguise an
// extension), at most 200; empty becomes the kind.
func safeFilename(name, kind string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' || r == '\\' || unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, name)
	if len([]rune(name)) > 200 {
		name = string([]rune(name)[:200])
	}
	if strings.TrimSpace(name) == "" {
		return kind
	}
	return name
}

// readInput is POST /v1/messages/{id}/read's optional body.
type readInput struct {
	Typing bool `json:"typing"`
}

// markRead marks a message the customer sent read at Meta (blue ticks),
// optionally showing the typing indicator until the reply (or 25 s).
func (s *Server) markRead(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in readInput
	if strings.TrimSpace(string(r.Body)) != "" {
		if err := r.DecodeJSON(&in); err != nil {
			return nil, err
		}
	}
	m, err := s.store.Message(ctx, r.OrgID(), r.Params["id"])
	if err != nil {
		return nil, err
	}
	if m.Direction != store.Inbound || m.WAMID == "" {
		return nil, apperr.Field("id", "is a message PyTake sent; only a message a customer sent can be marked read")
	}
	c, version, err := s.metaAccount(ctx, r.OrgID(), false)
	if err != nil {
		return nil, err
	}
	if err := s.graph.MarkRead(ctx, version, c.PhoneNumberID, c.AccessToken, m.WAMID, in.Typing); err != nil {
		return nil, metaRefused(err, "read receipt")
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"id": m.ID, "wamid": m.WAMID, "read": true, "typing": in.Typing})
}
