package graphsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// mediaURLLifetime is how long a media download URL works, as at Meta.
const mediaURLLifetime = 5 * time.Minute

type mediaItem struct {
	mime string
	data []byte
}

// AddMedia registers media the Graph API will describe and serve under id.
func (s *Sim) AddMedia(id, mimeType string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.media[id] = mediaItem{mime: mimeType, data: append([]byte(nil), data...)}
}

// lookupMedia finds registered media, or generates it for ids beginning
// with "media-" (any id with Config.AnyMedia).
func (s *Sim) lookupMedia(id string) (mediaItem, bool) {
	s.mu.Lock()
	m, ok := s.media[id]
	s.mu.Unlock()
	if ok {
		return m, true
	}
	if id != "" && (strings.HasPrefix(id, "media-") || s.cfg.AnyMedia) {
		return generatedMedia(id), true
	}
	return mediaItem{}, false
}

// generatedMedia is a small deterministic file for an id; the type is
// guessed from words in the id (audio, video, document or pdf, sticker),
// a JPEG image otherwise.
func generatedMedia(id string) mediaItem {
	tag := "graphsim media " + id
	lower := strings.ToLower(id)
	switch {
	case strings.Contains(lower, "audio") || strings.Contains(lower, "voice"):
		return mediaItem{"audio/ogg", []byte("OggS\x00\x02" + tag)}
	case strings.Contains(lower, "video"):
		return mediaItem{"video/mp4", []byte("\x00\x00\x00\x18ftypmp42" + tag)}
	case strings.Contains(lower, "doc") || strings.Contains(lower, "pdf"):
		return mediaItem{"application/pdf", []byte("%PDF-1.4\n% " + tag + "\n%%EOF\n")}
	case strings.Contains(lower, "sticker"):
		return mediaItem{"image/webp", []byte("RIFF\x00\x00\x00\x00WEBPVP8 " + tag)}
	}
	return mediaItem{"image/jpeg", []byte("\xff\xd8\xff\xe0" + tag + "\xff\xd9")}
}

// handleGetObject serves GET /{version}/{id}: a phone number's details or a
// media id's download URL.
func (s *Sim) handleGetObject(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !validVersion(r.PathValue("version")) {
		s.handleUnknown(w, r)
		return
	}
	token, ok := s.knownBearer(w, r)
	if !ok {
		return
	}
	if acct, ok := s.account(id); ok {
		if token != acct.AccessToken {
			badToken(w, "the access token is not valid for phone number "+id+".")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"id":                       acct.PhoneNumberID,
			"display_phone_number":     acct.DisplayPhoneNumber,
			"verified_name":            acct.VerifiedName,
			"quality_rating":           "GREEN",
			"code_verification_status": "VERIFIED",
			"platform_type":            "CLOUD_API",
			"throughput":               acct.throughput(),
		})
		return
	}
	if m, ok := s.lookupMedia(id); ok {
		sum := sha256.Sum256(m.data)
		writeJSON(w, http.StatusOK, map[string]any{
			"messaging_product": "whatsapp",
			"url":               baseURL(r) + "/_sim/media/" + url.PathEscape(id) + "?token=" + url.QueryEscape(s.downloadToken(id, s.cfg.Now().Add(mediaURLLifetime))),
			"mime_type":         m.mime,
			"sha256":            hex.EncodeToString(sum[:]),
			"file_size":         len(m.data),
			"id":                id,
		})
		return
	}
	// A phone number look-up names fields; Meta answers 400 for an unknown
	// object. A media look-up does not, and gets a 404 so that callers can
	// tell an expired media id.
	status := http.StatusNotFound
	if r.URL.Query().Has("fields") {
		status = http.StatusBadRequest
	}
	unknownObject(w, status, http.MethodGet, id)
}

// handleDownload serves GET /_sim/media/{id}?token=...: the bytes, for the
// bearer of a known access token, while the URL is valid.
func (s *Sim) handleDownload(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, ok := s.knownBearer(w, r); !ok {
		return
	}
	if !s.validDownloadToken(id, r.URL.Query().Get("token")) {
		writeMetaError(w, http.StatusNotFound, metaError{Message: "The media URL is invalid or has expired; ask for the media id again.", Code: 100})
		return
	}
	m, ok := s.lookupMedia(id)
	if !ok {
		unknownObject(w, http.StatusNotFound, http.MethodGet, id)
		return
	}
	w.Header().Set("Content-Type", m.mime)
	w.Header().Set("Content-Length", strconv.Itoa(len(m.data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(m.data)
	}
}

// downloadToken signs a media id's download URL until exp:
// "<unix exp>.<mac>".
func (s *Sim) downloadToken(id string, exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	return e + "." + s.urlMAC(id, e)
}

func (s *Sim) validDownloadToken(id, token string) bool {
	e, mac, ok := strings.Cut(token, ".")
	if !ok {
		return false
	}
	exp, err := strconv.ParseInt(e, 10, 64)
	if err != nil || s.cfg.Now().Unix() > exp {
		return false
	}
	return hmac.Equal([]byte(mac), []byte(s.urlMAC(id, e)))
}

func (s *Sim) urlMAC(id, exp string) string {
	h := hmac.New(sha256.New, s.urlKey)
	h.Write([]byte(id + "\x00" + exp))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// baseURL is the simulator's own base URL, as the request reached it.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	return scheme + "://" + r.Host
}
