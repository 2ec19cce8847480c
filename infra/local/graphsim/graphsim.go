// Package graphsim simulates the part of Meta's Graph API (the WhatsApp
// Cloud API) PyTake uses, for the local stack and for tests: it accepts
// sends on POST /{version}/{phone_number_id}/messages and answers like Meta,
// then posts signed status webhooks (sent, delivered, read, or failed) to
// PyTake's webhook URL; it serves phone-number, WABA phone-number list and
// media look-ups and media downloads; and it has a test-only control surface under /_sim/ to inject
// faults, observe sends and make a simulated customer write in.
package graphsim

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// DefaultStatusDelay is the pause before each status webhook (sent,
// delivered, read) when Config.StatusDelay is zero.
const DefaultStatusDelay = 50 * time.Millisecond

// Account is one WhatsApp business phone number the simulator serves.
type Account struct {
	PhoneNumberID      string
	WABAID             string
	DisplayPhoneNumber string
	VerifiedName       string
	AccessToken        string // the bearer token sends and look-ups must carry
	AppSecret          string // signs the webhooks posted for this number
	// ThroughputLevel is the number's throughput.level (STANDARD when
	// empty; HIGH for a number at 1,000 messages/s).
	ThroughputLevel string
}

func (a Account) throughput() map[string]string {
	if a.ThroughputLevel == "" {
		return map[string]string{"level": "STANDARD"}
	}
	return map[string]string{"level": a.ThroughputLevel}
}

// Config configures a Sim.
type Config struct {
	// WebhookURL receives the signed webhooks (statuses and simulated
	// inbound messages), e.g. http://127.0.0.1:3000/webhooks/whatsapp.
	// Empty means status webhooks are dropped and Inbound fails.
	WebhookURL string
	Accounts   []Account
	// StatusDelay is the pause before each status webhook of a send. Zero
	// means DefaultStatusDelay; a negative value means no pause at all
	// (the statuses are still posted one after the other, in order).
	StatusDelay time.Duration
	HTTPClient  *http.Client     // posts webhooks (default: 10 s timeout)
	Now         func() time.Time // default time.Now
	Log         *slog.Logger     // default: discard
	// AnyMedia makes every id that is not a phone number id resolve to
	// generated media (as ids beginning with "media-" always do), so the
	// numeric media ids of replayed webhook bodies can be downloaded.
	AnyMedia bool
	// WebhookTimeout bounds one webhook POST (default 10 s).
	WebhookTimeout time.Duration
	// MaxInFlight bounds concurrent webhook POSTs (default 8).
	MaxInFlight int
	// TemplateReview is how long a created template stays PENDING before
	// its status webhook (zero: DefaultTemplateReview).
	TemplateReview time.Duration
}

// Sim is the simulator. It is an http.Handler; Close stops its background
// webhook deliveries.
type Sim struct {
	inflight chan struct{}
	cfg      Config
	delay    time.Duration
	acctMu   sync.RWMutex       // guards accounts and tokens (AddAccount)
	accounts map[string]Account // by phone number id
	tokens   map[string]bool
	urlKey   []byte // signs media download URLs
	mux      *http.ServeMux

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	seq     uint64
	pending int           // background deliveries running
	idle    chan struct{} // closed when pending drops to zero
	faults  []*Fault
	sent    []Sent
	media   map[string]mediaItem
	rates   map[string]*rateWindow
	stats   counters
	// templates of every WABA; reads are the mark-as-read requests.
	templates []Template
	reads     []Read
	// registered are the wa_ids of the WhatsApp accounts the simulator
	// knows (every number that wrote in): a send to another form of one
	// (phone.Variants: Brazil's ninth digit, Mexico's 521, Argentina's 549)
	// is answered with it, as Meta answers the account's canonical wa_id.
	registered map[string]bool
}

type counters struct {
	accepted          int
	rejected          map[int]int
	markedRead        int
	inbound           int
	webhooksDelivered int
	webhooksFailed    int
	webhookRetries    int
	asyncFailed       int
}

// New returns a simulator for cfg.
func New(cfg Config) *Sim {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	delay := cfg.StatusDelay
	switch {
	case delay == 0:
		delay = DefaultStatusDelay
	case delay < 0:
		delay = 0
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 8
	}
	s := &Sim{
		inflight:   make(chan struct{}, cfg.MaxInFlight),
		cfg:        cfg,
		delay:      delay,
		accounts:   make(map[string]Account, len(cfg.Accounts)),
		tokens:     make(map[string]bool, len(cfg.Accounts)),
		urlKey:     make([]byte, 32),
		media:      make(map[string]mediaItem),
		rates:      make(map[string]*rateWindow),
		registered: map[string]bool{},
		stats:      counters{rejected: make(map[int]int)},
	}
	_, _ = rand.Read(s.urlKey) // crypto/rand.Read never fails
	for _, a := range cfg.Accounts {
		s.accounts[a.PhoneNumberID] = a
		if a.AccessToken != "" {
			s.tokens[a.AccessToken] = true
		}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.mux = s.routes()
	return s
}

func (s *Sim) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("POST /{version}/{phone}/messages", s.handleSend)
	m.HandleFunc("GET /{version}/{id}", s.handleGetObject)
	m.HandleFunc("GET /{version}/{id}/{edge}", s.handleGetEdge)
	m.HandleFunc("POST /{version}/{phone}/media", s.handleUpload)
	m.HandleFunc("POST /{version}/{id}/message_templates", s.handleCreateTemplate)
	m.HandleFunc("DELETE /{version}/{id}/message_templates", s.handleDeleteTemplate)
	m.HandleFunc("GET /_sim/media/{id}", s.handleDownload)
	m.HandleFunc("GET /_sim/reads", s.handleReads)
	m.HandleFunc("GET /_sim/templates", s.handleSimTemplates)
	m.HandleFunc("POST /_sim/account-event", s.handleAccountEvent)
	m.HandleFunc("GET /_sim/messages", s.handleMessages)
	m.HandleFunc("GET /_sim/stats", s.handleStats)
	m.HandleFunc("GET /_sim/faults", s.handleListFaults)
	m.HandleFunc("POST /_sim/faults", s.handleAddFault)
	m.HandleFunc("DELETE /_sim/faults", s.handleClearFaults)
	m.HandleFunc("POST /_sim/inbound", s.handleInbound)
	m.HandleFunc("POST /_sim/reset", s.handleReset)
	m.HandleFunc("/", s.handleUnknown)
	return m
}

// ServeHTTP serves the Graph API endpoints and the /_sim/ control surface.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// Close stops the background webhook deliveries (pending statuses are
// dropped, in-flight posts cancelled) and waits for them to end. Sends
// accepted after Close get no status webhooks.
func (s *Sim) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// Flush waits until every background status delivery started so far has
// finished (delivered or given up), or ctx ends.
func (s *Sim) Flush(ctx context.Context) error {
	for {
		s.mu.Lock()
		if s.pending == 0 {
			s.mu.Unlock()
			return nil
		}
		idle := s.idle
		s.mu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// goBackground runs f in a goroutine Close waits for; false when the Sim is
// closed and f will not run.
func (s *Sim) goBackground(f func(ctx context.Context)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.pending == 0 {
		s.idle = make(chan struct{})
	}
	s.pending++
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			s.pending--
			if s.pending == 0 {
				close(s.idle)
			}
			s.mu.Unlock()
		}()
		f(s.ctx)
	}()
	return true
}

// Reset forgets sends, faults, statistics and send rates (media and the
// registered WhatsApp accounts stay).
func (s *Sim) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	s.sent = nil
	s.reads = nil
	s.rates = make(map[string]*rateWindow)
	s.stats = counters{rejected: make(map[int]int)}
}

// account returns the account of a phone number id.
func (s *Sim) account(phoneNumberID string) (Account, bool) {
	s.acctMu.RLock()
	defer s.acctMu.RUnlock()
	a, ok := s.accounts[phoneNumberID]
	return a, ok
}

// knownToken reports whether token belongs to an account.
func (s *Sim) knownToken(token string) bool {
	s.acctMu.RLock()
	defer s.acctMu.RUnlock()
	return s.tokens[token]
}

// soleAccount is the only account, when there is exactly one.
func (s *Sim) soleAccount() (Account, bool) {
	if len(s.cfg.Accounts) != 1 {
		return Account{}, false
	}
	return s.cfg.Accounts[0], true
}
