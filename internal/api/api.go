// Package api is PyTake's integrator REST API (/v1): its routes, the API-key
// authentication in front of them, and the handlers. It runs inside the api
// Lambda function; functions/api only wires its dependencies.
package api

import (
	"bytes"
	"compress/gzip"
	"context"
	_ "embed"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pytake/pytake/internal/accept"
	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/crmconfig"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/msgtemplate"
	"github.com/pytake/pytake/internal/ratelimit"
	"github.com/pytake/pytake/internal/shopconfig"
	"github.com/pytake/pytake/internal/store"
)

// Store is what the API needs from the data store.
type Store interface {
	Organization(ctx context.Context, orgID string) (store.Organization, error)
	KeyByHash(ctx context.Context, hash string) (store.APIKey, error)
	TouchKey(ctx context.Context, k store.APIKey) error
	IssueKey(ctx context.Context, orgID, name, mode string, scopes ...string) (store.APIKey, string, error)
	MigrateKeyScopes(ctx context.Context, k store.APIKey) ([]string, error)
	Keys(ctx context.Context, orgID, cursor string, limit int) (store.Page[store.APIKey], error)
	APIKey(ctx context.Context, orgID, keyID string) (store.APIKey, error)
	RevokeKey(ctx context.Context, orgID, keyID string) (store.APIKey, error)
	Message(ctx context.Context, org, id string) (store.Message, error)
	ConversationMessages(ctx context.Context, org, conv, cursor string, limit int) (store.Page[store.Message], error)
	MediaOwner(ctx context.Context, org, mediaID string) (string, string, error)
	accept.Store
	WhatsAppAccount(ctx context.Context, orgID string) (store.WhatsAppAccount, error)
	PutWhatsAppAccount(ctx context.Context, a store.WhatsAppAccount) (store.WhatsAppAccount, error)
	RemoveWhatsAppAccount(ctx context.Context, a store.WhatsAppAccount) error
	MarkWhatsAppUnhealthy(ctx context.Context, orgID, reason string) error
}

// SecretWriter stores organisations' credentials.
type SecretWriter interface {
	Put(ctx context.Context, orgID, provider string, v any) error
}

// Secrets reads organisations' credentials.
type Secrets interface {
	Get(ctx context.Context, orgID, provider string, v any) error
}

// Graph is the part of the Graph API the API calls.
type Graph interface {
	MediaInfo(ctx context.Context, version, token, mediaID string) (graph.Media, error)
	Download(ctx context.Context, mediaURL, token string, limit int64) ([]byte, string, bool, error)
	GetPhoneNumber(ctx context.Context, version, phoneNumberID, token string) (graph.PhoneNumber, error)
	PhoneNumbersOfWABA(ctx context.Context, version, wabaID, token string) ([]string, error)
	ListTemplates(ctx context.Context, version, wabaID, token, after string, limit int) (graph.TemplatePage, error)
	CreateTemplate(ctx context.Context, version, wabaID, token string, body []byte) (graph.CreatedTemplate, error)
	DeleteTemplate(ctx context.Context, version, wabaID, token, name, hsmID string) error
	UploadMedia(ctx context.Context, version, phoneNumberID, token, mimeType, filename string, data []byte) (string, error)
	MarkRead(ctx context.Context, version, phoneNumberID, token, wamid string, typing bool) error
}

var _ Store = (*store.Store)(nil)

// Server holds the API's dependencies.
type Server struct {
	store         Store
	secrets       Secrets
	secretWriter  SecretWriter
	accept        *accept.Accepter // nil: sending is not configured
	hooks         WebhookStore
	deliveries    DeliveryStore
	contacts      ContactStore
	contactList   ContactLister
	convs         ConversationStore
	bots          ChatbotStore
	integrations  IntegrationStore
	templates     TemplateStore
	events        Publisher
	deliveryQueue DeliveryQueue
	// insecureWebhooks allows http:// and loopback webhook URLs (the
	// local stack only).
	insecureWebhooks bool
	graph            Graph
	graphVersion     string
	log              *slog.Logger
	now              func() time.Time
	limiter          *ratelimit.Limiter
	plansMu          sync.Mutex
	plans            map[string]cachedPlan
	phoneSettings    PhoneSettingsStore
	optOuts          OptOutStore
	campaigns        CampaignStore
	schedules        ScheduleStore
	sendAtMinLead    time.Duration
}

// Deps are the Server's collaborators.
type Deps struct {
	Store        Store
	Secrets      Secrets
	SecretWriter SecretWriter // nil: settings are read-only
	// Sending: POST /v1/messages accepts messages (their outbound jobs are
	// outbox items, relayed to the outbound queue); false: it answers 503.
	Sending       bool
	Webhooks      WebhookStore // nil: webhooks are not configured
	Deliveries    DeliveryStore
	Contacts      ContactStore
	Conversations ConversationStore
	Chatbots      ChatbotStore // nil: chatbots are not configured
	Events        Publisher    // contact.* events
	DeliveryQueue DeliveryQueue
	// InsecureWebhooks allows http:// and loopback webhook URLs; only the
	// local stack sets it (PYTAKE_LOCAL=1).
	InsecureWebhooks bool
	Graph            Graph
	GraphVersion     string // default Graph API version
	Log              *slog.Logger
	Now              func() time.Time
	// Limiter applies the per-organisation and per-key rate limits (nil:
	// none).
	Limiter *ratelimit.Limiter

	// Integrations keeps e-commerce integration settings (nil: not
	// configured); their secrets go through SecretWriter, which must also
	// read and delete (secrets.Store does).
	Integrations IntegrationStore

	// Templates keeps the organisation's copy of its message templates
	// (nil: the template routes answer 503).
	Templates TemplateStore

	// TemplateCacheTTL is how long a template send's read of the
	// organisation's templates is kept (0: msgtemplate.CacheTTL; negative:
	// not kept).
	TemplateCacheTTL time.Duration

	// SendAtMinLead is how far ahead a scheduled message's send_at must be
	// at least (0: accept.MinLead, a minute; SEND_AT_MIN_LEAD_SECONDS).
	SendAtMinLead time.Duration
}

// New returns a Server.
func New(d Deps) *Server {
	var lister ContactLister
	if l, ok := d.Contacts.(ContactLister); ok {
		lister = l
	}
	// The data store keeps the phone settings (store.Store does).
	phoneSettings, _ := d.Store.(PhoneSettingsStore)
	optOuts, _ := d.Store.(OptOutStore)
	campaigns, _ := d.Store.(CampaignStore)
	schedules, _ := d.Store.(ScheduleStore)
	minLead := d.SendAtMinLead
	if minLead <= 0 {
		minLead = accept.MinLead
	}
	var acc *accept.Accepter
	if d.Sending {
		acc = accept.New(d.Store)
		if c, ok := d.Store.(msgtemplate.Copy); ok && d.TemplateCacheTTL >= 0 {
			ttl, now := d.TemplateCacheTTL, d.Now
			if ttl == 0 {
				ttl = msgtemplate.CacheTTL
			}
			if now == nil {
				now = time.Now
			}
			acc.WithTemplates(msgtemplate.NewCache(c, now, ttl))
		}
	}
	return &Server{store: d.Store, secrets: d.Secrets, secretWriter: d.SecretWriter, accept: acc, graph: d.Graph,
		hooks: d.Webhooks, insecureWebhooks: d.InsecureWebhooks, deliveries: d.Deliveries, deliveryQueue: d.DeliveryQueue,
		contacts: d.Contacts, events: d.Events, convs: d.Conversations, contactList: lister, bots: d.Chatbots,
		integrations: d.Integrations, templates: d.Templates, phoneSettings: phoneSettings, optOuts: optOuts, campaigns: campaigns,
		schedules: schedules, sendAtMinLead: minLead,
		graphVersion: d.GraphVersion, log: d.Log, now: d.Now, limiter: d.Limiter, plans: map[string]cachedPlan{}}
}

// Router builds the /v1 router: every route behind its policy, the caller
// authenticated by its Authorization header.
func (s *Server) Router() *httpapi.Router {
	return s.routes(s.authenticate, AllRoutes()...)
}

// A RouteGroup is one resource's /v1 routes. A router built from some
// groups (InProcess) has only their routes, and a binary that names only
// some links only their handlers: the dashboard's (dashboard.APIRoutes).
type RouteGroup struct {
	name string
	add  func(s *Server, rt *router)
}

// The route groups, in the order Router registers them (an order that
// changes no route's precedence: TestRouteOrderIrrelevant).
var (
	CoreRoutes            = RouteGroup{"core", (*Server).coreRoutes}
	KeyRoutes             = RouteGroup{"api-keys", (*Server).keyRoutes}
	MessageRoutes         = RouteGroup{"messages", (*Server).messageRoutes}
	WhatsAppSettingRoutes = RouteGroup{"settings/whatsapp", (*Server).whatsAppSettingRoutes}
	PhoneSettingRoutes    = RouteGroup{"settings/phone", (*Server).phoneSettingRoutes}
	OptOutSettingRoutes   = RouteGroup{"settings/opt-out", (*Server).optOutSettingRoutes}
	WebhookRoutes         = RouteGroup{"webhooks", (*Server).webhookRoutes}
	ContactReadRoutes     = RouteGroup{"contacts:read", (*Server).contactReadRoutes}
	ContactWriteRoutes    = RouteGroup{"contacts:write", (*Server).contactWriteRoutes}
	CampaignRoutes        = RouteGroup{"campaigns", (*Server).campaignRoutes}
	HookRoutes            = RouteGroup{"hooks", (*Server).hookRoutes}
	ConversationRoutes    = RouteGroup{"conversations", (*Server).conversationRoutes}
	MediaRoutes           = RouteGroup{"media", (*Server).mediaRoutes}
	TemplateRoutes        = RouteGroup{"templates", (*Server).templateRoutes}
	ChatbotRoutes         = RouteGroup{"chatbots", (*Server).chatbotRoutes}
	IntegrationRoutes     = RouteGroup{"integrations", (*Server).integrationRoutes}
)

// AllRoutes is every group: the whole of /v1, as Router serves it.
func AllRoutes() []RouteGroup {
	return []RouteGroup{CoreRoutes, KeyRoutes, MessageRoutes, WhatsAppSettingRoutes, PhoneSettingRoutes, OptOutSettingRoutes,
		WebhookRoutes, ContactReadRoutes, ContactWriteRoutes, CampaignRoutes, HookRoutes, ConversationRoutes, MediaRoutes, TemplateRoutes,
		ChatbotRoutes, IntegrationRoutes}
}

// String names the group.
func (g RouteGroup) String() string { return g.name }

// routes builds a /v1 router of groups' routes, with authn as the
// authentication of every route that is not public.
func (s *Server) routes(authn httpapi.Middleware, groups ...RouteGroup) *httpapi.Router {
	rt := &router{Router: httpapi.NewRouter(s.log, s.now), authn: authn}
	for _, g := range groups {
		g.add(s, rt)
	}
	return rt.Router
}

func (s *Server) coreRoutes(rt *router) {
	s.handle(rt, http.MethodGet, "/v1/health", s.health)
	s.handle(rt, http.MethodGet, "/v1/openapi.json", s.openAPI)
	s.handle(rt, http.MethodGet, "/v1/organization", s.organization)
}

func (s *Server) keyRoutes(rt *router) {
	s.handle(rt, http.MethodPost, "/v1/api-keys", s.createAPIKey)
	s.handle(rt, http.MethodGet, "/v1/api-keys", s.listAPIKeys)
	s.handle(rt, http.MethodGet, "/v1/api-keys/{id}", s.getAPIKey)
	s.handle(rt, http.MethodDelete, "/v1/api-keys/{id}", s.revokeAPIKey)
}

// messageRoutes are sending, reading and cancelling messages, and read
// receipts.
func (s *Server) messageRoutes(rt *router) {
	s.handle(rt, http.MethodPost, "/v1/messages", s.sendMessage)
	s.handle(rt, http.MethodGet, "/v1/messages/{id}", s.getMessage)
	s.handle(rt, http.MethodDelete, "/v1/messages/{id}", s.cancelMessage)
	s.handle(rt, http.MethodPost, "/v1/messages/{id}/read", s.markRead)
}

func (s *Server) whatsAppSettingRoutes(rt *router) {
	s.handle(rt, http.MethodGet, "/v1/settings/whatsapp", s.getWhatsApp)
	s.handle(rt, http.MethodPut, "/v1/settings/whatsapp", s.putWhatsApp)
	s.handle(rt, http.MethodPost, "/v1/settings/whatsapp/test", s.testWhatsApp)
}

func (s *Server) phoneSettingRoutes(rt *router) {
	s.handle(rt, http.MethodGet, "/v1/settings/phone", s.getPhoneSettings)
	s.handle(rt, http.MethodPut, "/v1/settings/phone", s.putPhoneSettings)
}

func (s *Server) optOutSettingRoutes(rt *router) {
	s.handle(rt, http.MethodGet, "/v1/settings/opt-out", s.getOptOutSettings)
	s.handle(rt, http.MethodPut, "/v1/settings/opt-out", s.putOptOutSettings)
}

func (s *Server) webhookRoutes(rt *router) {
	s.handle(rt, http.MethodGet, "/v1/webhooks/events", s.webhookEvents)
	s.handle(rt, http.MethodPost, "/v1/webhooks", s.createWebhook)
	s.handle(rt, http.MethodGet, "/v1/webhooks", s.listWebhooks)
	s.handle(rt, http.MethodGet, "/v1/webhooks/{id}", s.getWebhook)
	s.handle(rt, http.MethodPatch, "/v1/webhooks/{id}", s.patchWebhook)
	s.handle(rt, http.MethodDelete, "/v1/webhooks/{id}", s.deleteWebhook)
	s.handle(rt, http.MethodPost, "/v1/webhooks/{id}/rotate-secret", s.rotateWebhookSecret)
	s.handle(rt, http.MethodPost, "/v1/webhooks/{id}/test", s.testWebhook)
	s.handle(rt, http.MethodGet, "/v1/webhooks/{id}/deliveries", s.listDeliveries)
	s.handle(rt, http.MethodPost, "/v1/webhooks/{id}/deliveries/{delivery_id}/retry", s.retryDelivery)
}

// contactReadRoutes and contactWriteRoutes are apart so that the dashboard,
// which only reads contacts, links none of the writes (0.07 MB).
func (s *Server) contactReadRoutes(rt *router) {
	s.handle(rt, http.MethodGet, "/v1/contacts", s.listContacts)
	s.handle(rt, http.MethodGet, "/v1/contacts/{id}", s.getContact)
}

func (s *Server) contactWriteRoutes(rt *router) {
	s.handle(rt, http.MethodPost, "/v1/contacts", s.createContact)
	s.handle(rt, http.MethodPatch, "/v1/contacts/{id}", s.patchContact)
	s.handle(rt, http.MethodDelete, "/v1/contacts/{id}", s.deleteContact)
	s.handle(rt, http.MethodPost, "/v1/contacts/{id}/tags", s.addTags)
	s.handle(rt, http.MethodDelete, "/v1/contacts/{id}/tags/{tag}", s.removeTag)
	s.handle(rt, http.MethodPost, "/v1/contacts/{id}/opt-in", s.optInContact)
}

func (s *Server) campaignRoutes(rt *router) {
	s.handle(rt, http.MethodPost, "/v1/campaigns", s.createCampaign)
	s.handle(rt, http.MethodGet, "/v1/campaigns", s.listCampaigns)
	s.handle(rt, http.MethodGet, "/v1/campaigns/{id}", s.getCampaign)
	s.handle(rt, http.MethodGet, "/v1/campaigns/{id}/recipients", s.listCampaignRecipients)
	s.handle(rt, http.MethodPost, "/v1/campaigns/{id}/pause", s.campaignTransition([]string{store.CampaignScheduled, store.CampaignRunning}, store.CampaignPaused))
	s.handle(rt, http.MethodPost, "/v1/campaigns/{id}/resume", s.resumeCampaign)
	s.handle(rt, http.MethodPost, "/v1/campaigns/{id}/cancel", s.campaignTransition([]string{store.CampaignScheduled, store.CampaignRunning, store.CampaignPaused}, store.CampaignCancelled))
}

func (s *Server) hookRoutes(rt *router) {
	s.handle(rt, http.MethodPost, "/v1/hooks", s.createHook)
	s.handle(rt, http.MethodDelete, "/v1/hooks/{id}", s.deleteWebhook)
	s.handle(rt, http.MethodGet, "/v1/hooks/samples/{event}", s.hookSamples)
}

func (s *Server) conversationRoutes(rt *router) {
	s.handle(rt, http.MethodGet, "/v1/conversations", s.listConversations)
	s.handle(rt, http.MethodGet, "/v1/conversations/{id}", s.getConversation)
	s.handle(rt, http.MethodPatch, "/v1/conversations/{id}", s.patchConversation)
	s.handle(rt, http.MethodGet, "/v1/conversations/{id}/messages", s.conversationMessages)
}

func (s *Server) mediaRoutes(rt *router) {
	s.handle(rt, http.MethodGet, "/v1/media/{media_id}", s.media)
	s.handle(rt, http.MethodPost, "/v1/media", s.uploadMedia)
	rt.SetRouteMaxBody(http.MethodPost, "/v1/media", maxUploadBytes+64<<10) // the file and a form's parts
}

func (s *Server) templateRoutes(rt *router) {
	s.handle(rt, http.MethodGet, "/v1/templates", s.listTemplates)
	s.handle(rt, http.MethodPost, "/v1/templates", s.createTemplate)
	s.handle(rt, http.MethodPost, "/v1/templates/sync", s.syncTemplates)
	s.handle(rt, http.MethodGet, "/v1/templates/{name}", s.getTemplate)
	s.handle(rt, http.MethodDelete, "/v1/templates/{name}", s.deleteTemplate)
}

func (s *Server) chatbotRoutes(rt *router) {
	s.handle(rt, http.MethodPost, "/v1/chatbots", s.createChatbot)
	s.handle(rt, http.MethodGet, "/v1/chatbots", s.listChatbots)
	s.handle(rt, http.MethodGet, "/v1/chatbots/{id}", s.getChatbot)
	s.handle(rt, http.MethodPatch, "/v1/chatbots/{id}", s.patchChatbot)
	s.handle(rt, http.MethodDelete, "/v1/chatbots/{id}", s.deleteChatbot)
}

func (s *Server) integrationRoutes(rt *router) {
	for _, p := range []string{shopconfig.Shopify, shopconfig.WooCommerce} {
		s.handle(rt, http.MethodPut, "/v1/integrations/"+p, s.putIntegration(p))
		s.handle(rt, http.MethodGet, "/v1/integrations/"+p, s.getIntegration(p))
		s.handle(rt, http.MethodDelete, "/v1/integrations/"+p, s.deleteIntegration(p))
	}
	for _, p := range []string{crmconfig.HubSpot, crmconfig.Salesforce} {
		s.handle(rt, http.MethodPut, "/v1/integrations/"+p, s.putCRM(p))
		s.handle(rt, http.MethodGet, "/v1/integrations/"+p, s.getCRM(p))
		s.handle(rt, http.MethodDelete, "/v1/integrations/"+p, s.deleteCRM(p))
	}
}

// principalKey holds the authenticated key on the request.
type principalKey struct{}

// caller is the key that authenticated the request.
func caller(r *httpapi.Request) store.APIKey {
	k, _ := r.Value(principalKey{}).(store.APIKey)
	return k
}

// authenticate accepts "Authorization: Bearer pytake_(live|test)_...". The
// key's SHA-256 is looked up (only hashes are stored) and compared in
// constant time; revoked keys are refused.
func (s *Server) authenticate(next httpapi.Handler) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
		authz := strings.TrimSpace(r.Header("authorization"))
		scheme, token, ok := strings.Cut(authz, " ")
		if authz == "" {
			return nil, unauthorized("missing Authorization header; send \"Authorization: Bearer pytake_live_...\"")
		}
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return nil, unauthorized("Authorization must use the Bearer scheme")
		}
		hash, _, err := apikey.Parse(strings.TrimSpace(token))
		if err != nil {
			return nil, unauthorized("the API key is malformed")
		}
		k, err := s.store.KeyByHash(ctx, hash)
		if apperr.Is(err, apperr.NotFound) {
			return nil, unauthorized("the API key is not valid")
		}
		if err != nil {
			return nil, err
		}
		if k.Revoked() {
			return nil, unauthorized("the API key has been revoked").WithCode("api_key_revoked")
		}
		if k.Scopes == nil {
			// Issued before scopes existed: given them once (see
			// store.MigrateKeyScopes).
			if k.Scopes, err = s.store.MigrateKeyScopes(ctx, k); err != nil {
				return nil, err
			}
		}
		r.Set(principalKey{}, k)
		r.SetOrgID(k.OrgID)
		if err := s.store.TouchKey(ctx, k); err != nil {
			r.Logger().WarnContext(ctx, "could not record api key use", "key_id", k.ID, "error", err.Error())
		}
		return next(ctx, r)
	}
}

func unauthorized(msg string) *apperr.Error {
	return apperr.New(apperr.Unauthenticated, msg)
}

// openAPIGzip is the OpenAPI 3.1 description of /v1 (openapi.json, kept
// next to the handlers), gzipped: 37 KB in the binary rather than 330 KB.
// It is served as it is to clients that accept gzip (every browser and
// HTTP library), and decompressed for the others; go generate makes it
// again after openapi.json changes (TestOpenAPIServed fails until then).
//
//go:generate sh -c "gzip -9 -n -c openapi.json > openapi.json.gz"
//go:embed openapi.json.gz
var openAPIGzip []byte

// openAPI serves the OpenAPI document; it needs no key.
func (s *Server) openAPI(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	h := map[string]string{"Content-Type": "application/json", "Cache-Control": "public, max-age=300", "Vary": "Accept-Encoding"}
	if acceptsGzip(r.Header("accept-encoding")) {
		h["Content-Encoding"] = "gzip"
		return &httpapi.Response{Status: http.StatusOK, Body: openAPIGzip, Base64: true, Headers: h}, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(openAPIGzip))
	if err != nil {
		return nil, fmt.Errorf("openapi document: %w", err)
	}
	doc, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("openapi document: %w", err)
	}
	return &httpapi.Response{Status: http.StatusOK, Body: doc, Headers: h}, nil
}

// acceptsGzip says whether an Accept-Encoding header accepts gzip: named
// (or x-gzip, or *) without q=0.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		switch strings.ToLower(strings.TrimSpace(coding)) {
		case "gzip", "x-gzip", "*":
		default:
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		return q > 0
	}
	return false
}

func (s *Server) health(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	return httpapi.JSON(http.StatusOK, map[string]any{"status": "ok", "time": s.now().UTC().Format(time.RFC3339)})
}

func (s *Server) organization(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	org, err := s.store.Organization(ctx, r.OrgID())
	if err != nil {
		return nil, err
	}
	k := caller(r)
	return httpapi.JSON(http.StatusOK, map[string]any{
		"id":         org.ID,
		"name":       org.Name,
		"created_at": org.CreatedAt,
		"api_key":    map[string]any{"id": k.ID, "mode": k.Mode, "prefix": k.Prefix, "last4": k.Last4, "scopes": k.Scopes},
	})
}
