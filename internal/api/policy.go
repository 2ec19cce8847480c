package api

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/ratelimit"
)

// Policy is what a route asks of the key calling it.
type Policy struct {
	// Public routes need no key at all.
	Public bool
	// Scope the key must hold (apikey.Scope*; admin holds every scope);
	// "" means any valid key.
	Scope string
	// LiveOnly, when set, refuses test keys (403 test_mode_forbidden) and
	// is the message saying why.
	LiveOnly string
	// Limit, when set, is a limit of the route's own per organisation,
	// taken after the plan's (an expensive route's).
	Limit *RouteLimit
}

// RouteLimit is a route's own token bucket per organisation (Name keys
// it): Rate tokens a second, bursts of Burst.
type RouteLimit struct {
	Name        string
	Rate, Burst int
}

// Listing a webhook's deliveries reads every one of its shards per page
// (a Query of each of store.DeliveryShards, about 128 read units): 2 pages
// a second per organisation, bursts of 10 (openapi.json says so).
const (
	DeliveriesListRate  = 2
	DeliveriesListBurst = 10
)

var deliveriesListLimit = &RouteLimit{Name: "deliveries", Rate: DeliveriesListRate, Burst: DeliveriesListBurst}

// Why test keys are refused.
const (
	liveKeys          = "test keys cannot create or revoke API keys: use a live key"
	liveSettings      = "test keys cannot change the WhatsApp settings: use a live key"
	liveMetaCheck     = "test keys cannot call Meta (this checks the live WhatsApp connection): use a live key"
	liveMetaMedia     = "test keys cannot call Meta (media is downloaded from Meta): use a live key"
	liveIntegrations  = "test keys cannot change integrations: use a live key"
	liveChatbots      = "test keys cannot change chatbots (they answer real customers): use a live key"
	liveTemplates     = "test keys cannot call Meta (templates are created, deleted and listed at Meta): use a live key"
	liveMetaUpload    = "test keys cannot call Meta (the file is uploaded to Meta): use a live key"
	liveMetaRead      = "test keys cannot call Meta (the read receipt goes to the customer's phone): use a live key"
	livePhoneSettings = "test keys cannot change the organization's phone settings: use a live key"
	liveOptOut        = "test keys cannot change the opt-out settings (they decide what real customers' messages do): use a live key"
	liveConsent       = "test keys cannot record a contact's consent (it lets real marketing messages through): use a live key"
)

// policies is every /v1 route's policy, keyed "METHOD pattern". A route
// registered without an entry is refused (500) and fails TestScopesPerRoute;
// openapi.json states the same scopes (x-pytake-scopes).
var policies = map[string]Policy{
	"GET /v1/health":       {Public: true},
	"GET /v1/openapi.json": {Public: true},
	"GET /v1/organization": {},

	"POST /v1/api-keys":        {Scope: apikey.ScopeAdmin, LiveOnly: liveKeys},
	"GET /v1/api-keys":         {Scope: apikey.ScopeAdmin},
	"GET /v1/api-keys/{id}":    {Scope: apikey.ScopeAdmin},
	"DELETE /v1/api-keys/{id}": {Scope: apikey.ScopeAdmin, LiveOnly: liveKeys},

	"POST /v1/messages":                   {Scope: apikey.ScopeMessagesWrite},
	"GET /v1/messages/{id}":               {Scope: apikey.ScopeMessagesRead},
	"DELETE /v1/messages/{id}":            {Scope: apikey.ScopeMessagesWrite},
	"GET /v1/conversations":               {Scope: apikey.ScopeMessagesRead},
	"GET /v1/conversations/{id}":          {Scope: apikey.ScopeMessagesRead},
	"PATCH /v1/conversations/{id}":        {Scope: apikey.ScopeMessagesWrite},
	"GET /v1/conversations/{id}/messages": {Scope: apikey.ScopeMessagesRead},
	"GET /v1/media/{media_id}":            {Scope: apikey.ScopeMessagesRead, LiveOnly: liveMetaMedia},
	"POST /v1/media":                      {Scope: apikey.ScopeMessagesWrite, LiveOnly: liveMetaUpload},
	"POST /v1/messages/{id}/read":         {Scope: apikey.ScopeMessagesWrite, LiveOnly: liveMetaRead},

	"GET /v1/templates":           {Scope: apikey.ScopeMessagesRead},
	"GET /v1/templates/{name}":    {Scope: apikey.ScopeMessagesRead},
	"POST /v1/templates":          {Scope: apikey.ScopeAdmin, LiveOnly: liveTemplates},
	"DELETE /v1/templates/{name}": {Scope: apikey.ScopeAdmin, LiveOnly: liveTemplates},
	"POST /v1/templates/sync":     {Scope: apikey.ScopeAdmin, LiveOnly: liveTemplates},

	"GET /v1/settings/whatsapp":       {Scope: apikey.ScopeAdmin},
	"PUT /v1/settings/whatsapp":       {Scope: apikey.ScopeAdmin, LiveOnly: liveSettings},
	"POST /v1/settings/whatsapp/test": {Scope: apikey.ScopeAdmin, LiveOnly: liveMetaCheck},
	"GET /v1/settings/phone":          {Scope: apikey.ScopeAdmin},
	"PUT /v1/settings/phone":          {Scope: apikey.ScopeAdmin, LiveOnly: livePhoneSettings},
	"GET /v1/settings/opt-out":        {Scope: apikey.ScopeAdmin},
	"PUT /v1/settings/opt-out":        {Scope: apikey.ScopeAdmin, LiveOnly: liveOptOut},

	"GET /v1/webhooks/events":                               {Scope: apikey.ScopeWebhooksRead},
	"POST /v1/webhooks":                                     {Scope: apikey.ScopeWebhooksWrite},
	"GET /v1/webhooks":                                      {Scope: apikey.ScopeWebhooksRead},
	"GET /v1/webhooks/{id}":                                 {Scope: apikey.ScopeWebhooksRead},
	"PATCH /v1/webhooks/{id}":                               {Scope: apikey.ScopeWebhooksWrite},
	"DELETE /v1/webhooks/{id}":                              {Scope: apikey.ScopeWebhooksWrite},
	"POST /v1/webhooks/{id}/rotate-secret":                  {Scope: apikey.ScopeWebhooksWrite},
	"POST /v1/webhooks/{id}/test":                           {Scope: apikey.ScopeWebhooksWrite},
	"GET /v1/webhooks/{id}/deliveries":                      {Scope: apikey.ScopeWebhooksRead, Limit: deliveriesListLimit},
	"POST /v1/webhooks/{id}/deliveries/{delivery_id}/retry": {Scope: apikey.ScopeWebhooksWrite},
	"POST /v1/hooks":                                        {Scope: apikey.ScopeWebhooksWrite},
	"DELETE /v1/hooks/{id}":                                 {Scope: apikey.ScopeWebhooksWrite},
	"GET /v1/hooks/samples/{event}":                         {Scope: apikey.ScopeWebhooksRead},

	"POST /v1/contacts":                   {Scope: apikey.ScopeContactsWrite},
	"GET /v1/contacts":                    {Scope: apikey.ScopeContactsRead},
	"GET /v1/contacts/{id}":               {Scope: apikey.ScopeContactsRead},
	"PATCH /v1/contacts/{id}":             {Scope: apikey.ScopeContactsWrite},
	"DELETE /v1/contacts/{id}":            {Scope: apikey.ScopeContactsWrite},
	"POST /v1/contacts/{id}/tags":         {Scope: apikey.ScopeContactsWrite},
	"DELETE /v1/contacts/{id}/tags/{tag}": {Scope: apikey.ScopeContactsWrite},
	"POST /v1/contacts/{id}/opt-in":       {Scope: apikey.ScopeContactsWrite, LiveOnly: liveConsent},

	// Campaigns send messages: messages:write to create and steer them,
	// messages:read to read them. A test key's campaign is a test campaign
	// (its messages never reach Meta).
	"POST /v1/campaigns":                {Scope: apikey.ScopeMessagesWrite},
	"GET /v1/campaigns":                 {Scope: apikey.ScopeMessagesRead},
	"GET /v1/campaigns/{id}":            {Scope: apikey.ScopeMessagesRead},
	"GET /v1/campaigns/{id}/recipients": {Scope: apikey.ScopeMessagesRead},
	"POST /v1/campaigns/{id}/pause":     {Scope: apikey.ScopeMessagesWrite},
	"POST /v1/campaigns/{id}/resume":    {Scope: apikey.ScopeMessagesWrite},
	"POST /v1/campaigns/{id}/cancel":    {Scope: apikey.ScopeMessagesWrite},

	"POST /v1/chatbots":        {Scope: apikey.ScopeChatbotsWrite, LiveOnly: liveChatbots},
	"GET /v1/chatbots":         {Scope: apikey.ScopeChatbotsRead},
	"GET /v1/chatbots/{id}":    {Scope: apikey.ScopeChatbotsRead},
	"PATCH /v1/chatbots/{id}":  {Scope: apikey.ScopeChatbotsWrite, LiveOnly: liveChatbots},
	"DELETE /v1/chatbots/{id}": {Scope: apikey.ScopeChatbotsWrite, LiveOnly: liveChatbots},

	"PUT /v1/integrations/hubspot":        {Scope: apikey.ScopeAdmin, LiveOnly: liveIntegrations},
	"GET /v1/integrations/hubspot":        {Scope: apikey.ScopeAdmin},
	"DELETE /v1/integrations/hubspot":     {Scope: apikey.ScopeAdmin, LiveOnly: liveIntegrations},
	"PUT /v1/integrations/salesforce":     {Scope: apikey.ScopeAdmin, LiveOnly: liveIntegrations},
	"GET /v1/integrations/salesforce":     {Scope: apikey.ScopeAdmin},
	"DELETE /v1/integrations/salesforce":  {Scope: apikey.ScopeAdmin, LiveOnly: liveIntegrations},
	"PUT /v1/integrations/shopify":        {Scope: apikey.ScopeAdmin, LiveOnly: liveIntegrations},
	"GET /v1/integrations/shopify":        {Scope: apikey.ScopeAdmin},
	"DELETE /v1/integrations/shopify":     {Scope: apikey.ScopeAdmin, LiveOnly: liveIntegrations},
	"PUT /v1/integrations/woocommerce":    {Scope: apikey.ScopeAdmin, LiveOnly: liveIntegrations},
	"GET /v1/integrations/woocommerce":    {Scope: apikey.ScopeAdmin},
	"DELETE /v1/integrations/woocommerce": {Scope: apikey.ScopeAdmin, LiveOnly: liveIntegrations},
}

// RoutePolicy is the policy of the route registered as method and pattern;
// ok is false when the route has none.
func RoutePolicy(method, pattern string) (Policy, bool) {
	p, ok := policies[method+" "+pattern]
	return p, ok
}

// router is a router being built, with the authentication its routes get
// (the Authorization header's key, or the in-process caller's).
type router struct {
	*httpapi.Router
	authn httpapi.Middleware
}

// handle registers a route behind its policy: public routes as they are,
// the others behind authentication and the policy's checks. A route with no
// policy fails closed.
func (s *Server) handle(rt *router, method, pattern string, h httpapi.Handler) {
	p, ok := RoutePolicy(method, pattern)
	switch {
	case !ok:
		rt.Handle(method, pattern, func(context.Context, *httpapi.Request) (*httpapi.Response, error) {
			return nil, apperr.Newf(apperr.Internal, "route %s %s has no policy", method, pattern)
		})
	case p.Public:
		rt.Handle(method, pattern, h)
	default:
		rt.Handle(method, pattern, h, rt.authn, s.rateLimit, s.routeLimit(p.Limit), s.authorize(p))
	}
}

// authorize applies a route's policy to the authenticated key: test keys
// where only live ones may go get 403 test_mode_forbidden, keys without the
// route's scope 403 insufficient_scope; both name why.
func (s *Server) authorize(p Policy) httpapi.Middleware {
	return func(next httpapi.Handler) httpapi.Handler {
		return func(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
			k := caller(r)
			if p.LiveOnly != "" && k.Mode == apikey.Test {
				return nil, apperr.New(apperr.Forbidden, p.LiveOnly).WithCode("test_mode_forbidden")
			}
			if !apikey.Allows(k.Scopes, p.Scope) {
				return nil, apperr.Newf(apperr.Forbidden, "this key lacks the %s scope that %s %s needs; its scopes are %v",
					p.Scope, r.Method, r.Route, k.Scopes).WithCode("insufficient_scope").With("required_scope", p.Scope)
			}
			return next(ctx, r)
		}
	}
}

// rateLimit takes a token from the key's and the organisation's buckets
// (their sizes from the organisation's plan) before anything else is done
// for the request, so refused requests are counted too. Every answer
// carries RateLimit and RateLimit-Policy; a refusal is 429 rate_limited
// with Retry-After. Without a limiter (unit tests of other things) nothing
// is limited; when the store fails, the request goes through (logged).
func (s *Server) rateLimit(next httpapi.Handler) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
		if s.limiter == nil {
			return next(ctx, r)
		}
		k := caller(r)
		plan, err := s.plan(ctx, k.OrgID)
		if err != nil {
			return nil, err
		}
		d, err := s.limiter.Take(ctx, k.OrgID, k.ID, plan)
		if err != nil {
			r.Logger().Warn("rate limit not checked; request let through", "error", err.Error())
			return next(ctx, r)
		}
		if !d.Allowed {
			e := apperr.Newf(apperr.RateLimited, "the %s rate limit (%s) is exhausted; retry after %s seconds",
				map[string]string{"key": "API key", "org": "organization"}[d.Policy], planLimits(plan, d.Policy), d.Headers["Retry-After"]).
				With("policy", d.Policy)
			for h, v := range d.Headers {
				e.WithHeader(h, v)
			}
			return nil, e
		}
		resp, err := next(ctx, r)
		if resp != nil {
			if resp.Headers == nil {
				resp.Headers = map[string]string{}
			}
			for h, v := range d.Headers {
				resp.Headers[h] = v
			}
		}
		if e, ok := apperr.As(err); ok {
			for h, v := range d.Headers {
				e.WithHeader(h, v)
			}
		}
		return resp, err
	}
}

// routeLimit takes a token from the route's own bucket for the caller's
// organisation, when the route has one (after the plan's: a request
// refused here counted there too): 429 rate_limited with Retry-After
// (policy "route") when it is empty. Without a limiter nothing is limited;
// when the store fails, the request goes through (logged).
func (s *Server) routeLimit(l *RouteLimit) httpapi.Middleware {
	return func(next httpapi.Handler) httpapi.Handler {
		if l == nil {
			return next
		}
		return func(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
			if s.limiter == nil {
				return next(ctx, r)
			}
			t, err := s.limiter.TakeOne(ctx, "route#"+l.Name+"#"+caller(r).OrgID, l.Rate, l.Burst)
			if err != nil {
				r.Logger().Warn("route rate limit not checked; request let through", "error", err.Error())
				return next(ctx, r)
			}
			if !t.Allowed {
				retry := strconv.Itoa(max(1, int((t.RetryAfter+time.Second-1)/time.Second)))
				return nil, apperr.Newf(apperr.RateLimited, "%s %s has a limit of its own (%d requests a second, bursts of %d, per organization); retry after %s seconds",
					r.Method, r.Route, l.Rate, l.Burst, retry).With("policy", "route").WithHeader("Retry-After", retry)
			}
			return next(ctx, r)
		}
	}
}

func planLimits(p ratelimit.Plan, policy string) string {
	if policy == "key" {
		return fmt.Sprintf("%d requests a second, bursts of %d, per key on the %s plan", p.KeyRate, p.KeyBurst, p.Name)
	}
	return fmt.Sprintf("%d requests a second, bursts of %d, per organization on the %s plan", p.OrgRate, p.OrgBurst, p.Name)
}

// planTTL is how long a container trusts an organisation's plan it read.
const planTTL = time.Minute

type cachedPlan struct {
	plan  ratelimit.Plan
	until time.Time
}

// plan is the organisation's plan, read at most once a minute per
// container.
func (s *Server) plan(ctx context.Context, org string) (ratelimit.Plan, error) {
	now := s.now()
	s.plansMu.Lock()
	c, ok := s.plans[org]
	s.plansMu.Unlock()
	if ok && now.Before(c.until) {
		return c.plan, nil
	}
	o, err := s.store.Organization(ctx, org)
	if err != nil {
		return ratelimit.Plan{}, err
	}
	p, _ := ratelimit.PlanNamed(o.Plan)
	s.plansMu.Lock()
	if len(s.plans) > 10_000 {
		s.plans = map[string]cachedPlan{}
	}
	s.plans[org] = cachedPlan{plan: p, until: now.Add(planTTL)}
	s.plansMu.Unlock()
	return p, nil
}
