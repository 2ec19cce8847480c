package api

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/secrets"
)

// maxMediaBytes keeps a media answer inside Lambda's 6 MB response limit
// once base64-encoded.
const maxMediaBytes = 4 << 20

// pageLimit reads ?limit= (1-100, default 20).
func pageLimit(r *httpapi.Request) (int, error) {
	s := r.Query.Get("limit")
	if s == "" {
		return 20, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 100 {
		return 0, apperr.Field("limit", "must be an integer from 1 to 100")
	}
	return n, nil
}

func (s *Server) getMessage(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	m, err := s.store.Message(ctx, r.OrgID(), r.Params["id"])
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, m)
}

func (s *Server) conversationMessages(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	limit, err := pageLimit(r)
	if err != nil {
		return nil, err
	}
	page, err := s.store.ConversationMessages(ctx, r.OrgID(), r.Params["id"], r.Query.Get("cursor"), limit)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, page)
}

// media streams a media file the organisation received, from the Graph API
// with the organisation's token: a fresh download URL every time (Meta's
// last about five minutes).
func (s *Server) media(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	mediaID := r.Params["media_id"]
	if _, _, err := s.store.MediaOwner(ctx, r.OrgID(), mediaID); err != nil {
		return nil, err
	}
	var cred secrets.WhatsApp
	if err := s.secrets.Get(ctx, r.OrgID(), secrets.ProviderWhatsApp, &cred); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return nil, apperr.New(apperr.Conflict, "WhatsApp is not configured for this organization").WithCode("whatsapp_not_configured")
		}
		return nil, err
	}
	version := cred.GraphAPIVersion
	if version == "" {
		version = s.graphVersion
	}
	info, err := s.graph.MediaInfo(ctx, version, cred.AccessToken, mediaID)
	if err != nil {
		return nil, upstream(err)
	}
	body, ctype, tooLarge, err := s.graph.Download(ctx, info.URL, cred.AccessToken, maxMediaBytes)
	if err != nil {
		return nil, upstream(err)
	}
	if tooLarge {
		return nil, apperr.Newf(apperr.TooLarge, "media is larger than %d bytes, the most this endpoint returns", maxMediaBytes).WithCode("media_too_large")
	}
	if ctype == "" {
		ctype = info.MimeType
	}
	ctype = mediaType(ctype)
	return &httpapi.Response{Status: http.StatusOK, Headers: map[string]string{
		"Content-Type": ctype,
		// The bytes are whatever a customer sent: never sniffed into HTML or
		// script, never rendered inline under the API's origin.
		"X-Content-Type-Options": "nosniff",
		"Content-Disposition":    `attachment; filename="` + mediaFilename(mediaID, ctype) + `"`,
	}, Body: body, Base64: true}, nil
}

// mediaType is Meta's content type when it parses as one, else
// application/octet-stream.
func mediaType(ctype string) string {
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return "application/octet-stream"
	}
	return mime.FormatMediaType(mt, params)
}

// mediaExt are the extensions of the media types WhatsApp carries.
var mediaExt = map[string]string{
	"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp",
	"audio/aac": ".aac", "audio/amr": ".amr", "audio/mpeg": ".mp3", "audio/mp4": ".m4a", "audio/ogg": ".ogg",
	"video/mp4": ".mp4", "video/3gpp": ".3gp",
	"text/plain": ".txt", "application/pdf": ".pdf",
	"application/msword": ".doc", "application/vnd.ms-excel": ".xls", "application/vnd.ms-powerpoint": ".ppt",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   ".docx",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         ".xlsx",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
}

// mediaFilename names the download after the media id (only its safe
// characters) and the type's usual extension.
func mediaFilename(mediaID, ctype string) string {
	name := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_' {
			return r
		}
		return -1
	}, mediaID)
	if name == "" {
		name = "media"
	}
	mt, _, _ := strings.Cut(ctype, ";")
	return name + mediaExt[strings.ToLower(strings.TrimSpace(mt))]
}

// upstream turns a Graph API failure into a 502 naming Meta's code.
func upstream(err error) error {
	var ge *graph.Error
	if errors.As(err, &ge) {
		if ge.HTTPStatus == http.StatusNotFound {
			return apperr.New(apperr.NotFound, "Meta does not know this media id (media ids expire after 7 days)").WithCause(err)
		}
		return apperr.Newf(apperr.BadGateway, "the WhatsApp Cloud API answered with error %d: %s", ge.Code, ge.Message).
			With("meta_code", ge.Code).WithCause(err)
	}
	return apperr.New(apperr.BadGateway, "the WhatsApp Cloud API could not be reached").WithCause(err)
}
