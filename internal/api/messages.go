package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"

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
	return &httpapi.Response{Status: http.StatusOK, Headers: map[string]string{"Content-Type": ctype}, Body: body, Base64: true}, nil
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
