package stack

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pytake/pytake/infra/local/crmsim"
	"github.com/pytake/pytake/infra/local/graphsim"
)

// Config says where things are and how to run them.
type Config struct {
	Root     string // repository root (template.yaml, Makefile, functions/)
	StateDir string // binaries and demo.env (default Root/.local)
	Addr     string // gateway address (default 127.0.0.1:3000; port 0 picks one)
	RIE      string // aws-lambda-rie
	Moto     string // moto_server
	Region   string // default us-east-1
	PerFunc  int    // emulators per function (default 2)
	// ExtraEnv is added to every function's environment after the
	// template's.
	ExtraEnv map[string]string
	// GraphURL is the Graph API the functions call. Empty: the stack runs
	// the WhatsApp Cloud API simulator (graphsim) and points them at it.
	GraphURL string
	// HubSpotURL is HubSpot's API (HUBSPOT_API_URL) and SalesforceURL the
	// demo organisation's Salesforce login URL. Empty: the stack runs
	// their simulators (infra/local/crmsim).
	HubSpotURL    string
	SalesforceURL string
	// StatusDelay is the simulator's pause before each status webhook
	// (0: its default; negative: none).
	StatusDelay time.Duration
	// FastSchedule is how often a schedule of one minute or less runs
	// locally (default 2 s), so what it does (the campaign sweep) is seen
	// at once; longer schedules (the template sync) run at their rate.
	FastSchedule time.Duration
	// Docs is the built API reference page (make docs), served at /docs;
	// empty: no /docs.
	Docs   string
	Log    *slog.Logger // the stack's own log
	Output io.Writer    // functions' and moto's output (default os.Stderr)
}

// Credentials every local client uses; moto accepts any.
const (
	AccessKeyID     = "local"
	SecretAccessKey = "local-secret"
	Account         = "123456789012" // moto's default account
)

// Stack is a running local stack.
type Stack struct {
	URL       string // gateway base URL
	Endpoint  string // moto endpoint (AWS_ENDPOINT_URL)
	Region    string
	Template  *Template
	Functions []Function
	Names     *Names
	AWS       aws.Config
	GraphURL  string        // what WHATSAPP_GRAPH_URL is for the functions
	Sim       *graphsim.Sim // the simulator, unless Config.GraphURL was set
	// The CRM simulators, unless Config.HubSpotURL / SalesforceURL were set.
	HubSpotURL    string
	SalesforceURL string
	HubSpotSim    *crmsim.HubSpot
	SalesforceSim *crmsim.Salesforce

	cfg    Config
	pool   *Pool
	moto   *exec.Cmd
	motoUp chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Start brings the stack up. Close stops everything it started.
func Start(ctx context.Context, cfg Config) (s *Stack, err error) {
	if cfg.StateDir == "" {
		cfg.StateDir = filepath.Join(cfg.Root, ".local")
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:3000"
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Output == nil {
		cfg.Output = os.Stderr
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(cfg.Output, nil))
	}
	for name, path := range map[string]string{"aws-lambda-rie": cfg.RIE, "moto_server": cfg.Moto} {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("%s not found at %q (make tools installs it): %w", name, path, err)
		}
	}
	t, err := LoadTemplate(filepath.Join(cfg.Root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	fns, err := t.Functions(filepath.Join(cfg.Root, "Makefile"))
	if err != nil {
		return nil, err
	}
	// Listen first: a busy port should fail before anything starts.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w (set PORT to use another port)", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s = &Stack{Region: cfg.Region, Template: t, Functions: fns, cfg: cfg, cancel: cancel}
	started := s // a failed start returns nil: stop what it started
	defer func() {
		if err != nil {
			ln.Close()
			started.Close()
			s = nil
		}
	}()

	binDir := filepath.Join(cfg.StateDir, "bin")
	built := make(chan error, 1)
	go func() { built <- BuildFunctions(ctx, cfg.Root, binDir, fns) }()

	if err := s.startMoto(ctx); err != nil {
		<-built
		return nil, err
	}
	s.AWS = aws.Config{
		Region:       cfg.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		BaseEndpoint: aws.String(s.Endpoint),
	}
	s.Names = NewNames(t, cfg.Region, Account)
	if err := s.createResources(ctx); err != nil {
		<-built
		return nil, err
	}
	if err := <-built; err != nil {
		return nil, err
	}
	s.URL = "http://" + ln.Addr().String()
	if err := s.startGraph(runCtx); err != nil {
		return nil, err
	}
	if err := s.startCRMs(runCtx); err != nil {
		return nil, err
	}
	s.pool, err = StartPool(ctx, PoolConfig{
		RIE: cfg.RIE, BinDir: binDir, PerFunc: cfg.PerFunc, Functions: fns,
		Env:  s.functionEnv,
		Logs: func(f Function) io.Writer { return &prefixWriter{w: cfg.Output, prefix: "[" + f.LogicalID + "] "} },
	})
	if err != nil {
		return nil, err
	}
	s.URL = "http://" + ln.Addr().String()
	var routes []Route
	for _, f := range fns {
		routes = append(routes, f.Routes...)
	}
	gw := NewGateway(routes, s.pool, cfg.Log, time.Now)
	if cfg.Docs != "" {
		gw.ServeFile("/docs", cfg.Docs)
		gw.ServeFile("/docs/", cfg.Docs)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := gw.Serve(runCtx, ln); err != nil {
			cfg.Log.Error("gateway stopped", "error", err.Error())
		}
	}()
	sq := sqs.NewFromConfig(s.AWS)
	for _, f := range fns {
		for _, q := range f.Queues {
			p := &Poller{SQS: sq, Invoker: s.pool, Function: f.LogicalID, Event: q, Region: cfg.Region, Log: cfg.Log,
				QueueURL: s.Names.Refs[q.Queue], QueueARN: s.Names.Attrs[q.Queue+".Arn"]}
			if p.QueueURL == "" {
				return nil, fmt.Errorf("%s: SQS event on unknown queue %s", f.LogicalID, q.Queue)
			}
			// Concurrent batches, as Lambda runs them (bounded by the
			// emulators; FIFO groups keep their order across pollers).
			n := cfg.PerFunc
			if n <= 0 {
				n = 2
			}
			if q.MaxConcurrency > 0 && q.MaxConcurrency < n {
				n = q.MaxConcurrency
			}
			for i := 0; i < n; i++ {
				s.wg.Add(1)
				go func() { defer s.wg.Done(); p.Run(runCtx) }()
			}
		}
	}
	for _, f := range fns {
		for _, every := range f.Schedules {
			if every <= time.Minute {
				every = cfg.FastSchedule
				if every <= 0 {
					every = 2 * time.Second
				}
			}
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.schedule(runCtx, f.LogicalID, every) }()
		}
	}
	streams := dynamodbstreams.NewFromConfig(s.AWS)
	for _, f := range fns {
		for _, se := range f.Streams {
			p := &StreamPoller{Streams: streams, SQS: sq, Invoker: s.pool, Function: f.LogicalID, Event: se, Region: cfg.Region, Log: cfg.Log,
				StreamARN: s.Names.Attrs[se.Table+".StreamArn"]}
			if p.StreamARN == "" {
				return nil, fmt.Errorf("%s: DynamoDB event on %s, which has no stream", f.LogicalID, se.Table)
			}
			if se.OnFailure != "" {
				if p.OnFailureURL = s.Names.Refs[se.OnFailure]; p.OnFailureURL == "" {
					return nil, fmt.Errorf("%s: on-failure destination %s is not a queue of the template", f.LogicalID, se.OnFailure)
				}
			}
			// One invocation at a time per shard, as Lambda (moto's
			// stream has one shard).
			s.wg.Add(1)
			go func() { defer s.wg.Done(); p.Run(runCtx) }()
		}
	}
	return s, nil
}

// schedule invokes a function with an EventBridge Scheduler event every
// period, one run at a time (as its reserved concurrency of 1 does).
func (s *Stack) schedule(ctx context.Context, function string, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			payload := fmt.Sprintf(`{"version":"0","id":"local-%d","detail-type":"Scheduled Event","source":"aws.scheduler","time":%q,"resources":["local:schedule/%s"],"detail":"{}"}`,
				now.UnixNano(), now.UTC().Format(time.RFC3339), function)
			if inv := s.pool.Invoke(ctx, function, []byte(payload)); inv.Err != nil && ctx.Err() == nil {
				s.cfg.Log.Warn("scheduled run failed", "function", function, "error", inv.Err.Error())
			}
		}
	}
}

// startGraph starts the WhatsApp Cloud API simulator on a free port, with
// the demo organisation's number, posting its webhooks to the gateway.
func (s *Stack) startGraph(ctx context.Context) error {
	if s.cfg.GraphURL != "" {
		s.GraphURL = s.cfg.GraphURL
		return nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("graph simulator: %w", err)
	}
	s.Sim = graphsim.New(graphsim.Config{
		WebhookURL:  s.URL + "/webhooks/whatsapp",
		StatusDelay: s.cfg.StatusDelay,
		// Under a burst the webhook function queues behind its emulators;
		// a short client timeout would make the simulator retry (as Meta
		// does) and multiply the load.
		HTTPClient:     &http.Client{Timeout: 2 * time.Minute},
		WebhookTimeout: 2 * time.Minute,
		MaxInFlight:    4,
		AnyMedia:       true,
		Log:            s.cfg.Log.With("component", "graphsim"),
		Accounts: []graphsim.Account{{
			PhoneNumberID: DemoPhoneNumberID, WABAID: DemoWABAID, DisplayPhoneNumber: DemoDisplayPhoneNumber,
			VerifiedName: "PyTake Demo", AccessToken: DemoAccessToken, AppSecret: DemoAppSecret,
		}},
	})
	// The demo WABA's templates, as the README's examples send them (they
	// are checked once the demo organisation syncs its templates).
	for _, tpl := range demoTemplates {
		s.Sim.AddTemplate(tpl)
	}
	srv := &http.Server{Handler: s.Sim, ReadHeaderTimeout: 10 * time.Second}
	s.GraphURL = "http://" + l.Addr().String()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		go func() {
			<-ctx.Done()
			_ = srv.Close()
		}()
		_ = srv.Serve(l)
	}()
	return nil
}

// Invoke calls a function directly, as `sam local invoke` would.
func (s *Stack) Invoke(ctx context.Context, function string, payload []byte) Invocation {
	return s.pool.Invoke(ctx, function, payload)
}

// Close stops everything Start started.
func (s *Stack) Close() {
	if s.cancel != nil {
		s.cancel()
	}
	if s.Sim != nil {
		s.Sim.Close()
	}
	s.wg.Wait()
	if s.pool != nil {
		s.pool.Close()
	}
	if s.moto != nil {
		killGroup(s.moto)
		select {
		case <-s.motoUp:
		case <-time.After(5 * time.Second):
			_ = s.moto.Process.Kill()
		}
	}
}

func (s *Stack) startMoto(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	// moto_serial.py (embedded) runs moto's app with requests serialised;
	// it runs on the Python next to moto_server, in the same venv.
	script := filepath.Join(s.cfg.StateDir, "moto_serial.py")
	if err := os.MkdirAll(s.cfg.StateDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(script, motoSerial, 0o644); err != nil {
		return fmt.Errorf("write moto launcher: %w", err)
	}
	python := filepath.Join(filepath.Dir(s.cfg.Moto), "python")
	cmd := exec.Command(python, script, "127.0.0.1", strconv.Itoa(port))
	cmd.Stdout = io.Discard
	cmd.Stderr = &prefixWriter{w: s.cfg.Output, prefix: "[moto] ", filter: motoNoise}
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start moto_server: %w", err)
	}
	s.moto = cmd
	s.motoUp = make(chan struct{})
	go func() { _ = cmd.Wait(); close(s.motoUp) }()
	s.Endpoint = "http://127.0.0.1:" + strconv.Itoa(port)
	if err := waitTCP(ctx, "127.0.0.1:"+strconv.Itoa(port), 60*time.Second, s.motoUp); err != nil {
		return fmt.Errorf("moto_server: %w", err)
	}
	// The port is open a moment before the app answers.
	for i := 0; i < 100; i++ {
		resp, err := http.Get(s.Endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("moto_server does not answer")
}

//go:embed moto_serial.py
var motoSerial []byte

// motoNoise drops moto's per-request access log lines.
func motoNoise(line string) bool {
	return strings.Contains(line, " - - [") && strings.Contains(line, "HTTP/1.1")
}

// createResources creates what template.yaml declares, in dependency
// order, and records the physical names intrinsics resolve to.
func (s *Stack) createResources(ctx context.Context) error {
	prefix := "pytake-local-"
	db := dynamodb.NewFromConfig(s.AWS)
	for _, r := range s.Template.ResourcesOfType("AWS::DynamoDB::Table") {
		name := prefix + r.LogicalID
		in, ttl, err := TableInput(name, r.Properties)
		if err != nil {
			return err
		}
		out, err := db.CreateTable(ctx, in)
		if err != nil {
			return fmt.Errorf("create table %s: %w", r.LogicalID, err)
		}
		if ttl != "" {
			if _, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
				TableName:               aws.String(name),
				TimeToLiveSpecification: &dtypes.TimeToLiveSpecification{AttributeName: aws.String(ttl), Enabled: aws.Bool(true)},
			}); err != nil {
				return fmt.Errorf("table %s TTL: %w", r.LogicalID, err)
			}
		}
		s.Names.Refs[r.LogicalID] = name
		s.Names.Attrs[r.LogicalID+".Arn"] = aws.ToString(out.TableDescription.TableArn)
		s.Names.Attrs[r.LogicalID+".StreamArn"] = aws.ToString(out.TableDescription.LatestStreamArn)
	}
	if err := createQueues(ctx, sqs.NewFromConfig(s.AWS), s.Template, s.Names, prefix); err != nil {
		return err
	}
	if err := createTopics(ctx, sns.NewFromConfig(s.AWS), s.Template, s.Names, prefix); err != nil {
		return err
	}
	for _, f := range s.Functions {
		s.Names.Refs[f.LogicalID] = prefix + f.LogicalID
		s.Names.Attrs[f.LogicalID+".Arn"] = "arn:aws:lambda:" + s.Region + ":" + Account + ":function:" + prefix + f.LogicalID
	}
	for _, r := range s.Template.ResourcesOfType("AWS::Serverless::HttpApi") {
		s.Names.Refs[r.LogicalID] = "local"
	}
	return nil
}

// ClientEnv is the environment a tool needs to reach the local AWS.
func (s *Stack) ClientEnv() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL":      s.Endpoint,
		"AWS_REGION":            s.Region,
		"AWS_DEFAULT_REGION":    s.Region,
		"AWS_ACCESS_KEY_ID":     AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": SecretAccessKey,
	}
}

// FunctionEnv is a function's resolved environment (template and extras).
func (s *Stack) FunctionEnv(logicalID string) (map[string]string, error) {
	for _, f := range s.Functions {
		if f.LogicalID == logicalID {
			env, err := s.Names.Env(f.Env)
			if err != nil {
				return nil, err
			}
			if s.GraphURL != "" {
				env["WHATSAPP_GRAPH_URL"] = s.GraphURL
			}
			if s.HubSpotURL != "" {
				env["HUBSPOT_API_URL"] = s.HubSpotURL
			}
			// Webhook retries on a 1/100 schedule locally (5 s becomes
			// 50 ms, 5 min 3 s), so the whole schedule is observable.
			env["WEBHOOK_RETRY_SCALE"] = "0.01"
			for k, v := range s.cfg.ExtraEnv {
				env[k] = v
			}
			return env, nil
		}
	}
	return nil, fmt.Errorf("no function %s", logicalID)
}

func (s *Stack) functionEnv(f Function) ([]string, error) {
	env, err := s.FunctionEnv(f.LogicalID)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.LogicalID, err)
	}
	for k, v := range s.ClientEnv() {
		env[k] = v
	}
	level := "INFO"
	if lc := asMap(s.Template.Globals["LoggingConfig"]); lc != nil {
		if l, err := s.Names.Resolve(lc["ApplicationLogLevel"]); err == nil && l != "" {
			level = l
		}
	}
	env["AWS_LAMBDA_FUNCTION_NAME"] = s.Names.Refs[f.LogicalID]
	env["AWS_LAMBDA_FUNCTION_TIMEOUT"] = strconv.Itoa(f.Timeout)
	env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = strconv.Itoa(f.MemorySize)
	env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
	env["AWS_LAMBDA_LOG_LEVEL"] = level
	env["PYTAKE_LOCAL"] = "1"
	env["PATH"] = os.Getenv("PATH")
	env["TZ"] = "UTC"
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(env))
	for _, k := range keys {
		out = append(out, k+"="+env[k])
	}
	return out, nil
}

// prefixWriter writes whole lines, each prefixed, from concurrent writers.
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    bytes.Buffer
	filter func(string) bool
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf.Write(b)
	for {
		i := bytes.IndexByte(p.buf.Bytes(), '\n')
		if i < 0 {
			break
		}
		line := string(p.buf.Next(i + 1))
		if p.filter != nil && p.filter(line) {
			continue
		}
		_, _ = io.WriteString(p.w, p.prefix+line)
	}
	return len(b), nil
}

// demoTemplates are the approved templates of the demo WABA at the
// simulator: those the README, the shops' defaults and the chatbot example
// send.
var demoTemplates = []graphsim.Template{
	{WABAID: DemoWABAID, Name: "order_confirmation", Language: "pt_BR", Category: "UTILITY", Status: "APPROVED",
		Components: json.RawMessage(`[{"type":"BODY","text":"Olá! Seu pedido {{1}} de {{2}} foi confirmado.","example":{"body_text":[["1001","R$ 150,00"]]}}]`)},
	{WABAID: DemoWABAID, Name: "order_update", Language: "pt_BR", Category: "UTILITY", Status: "APPROVED",
		Components: json.RawMessage(`[{"type":"BODY","text":"Seu pedido {{1}} foi {{2}}.","example":{"body_text":[["1001","enviado"]]}}]`)},
	{WABAID: DemoWABAID, Name: "menu", Language: "pt_BR", Category: "MARKETING", Status: "APPROVED",
		Components: json.RawMessage(`[{"type":"BODY","text":"Escolha uma opção do menu."}]`)},
	{WABAID: DemoWABAID, Name: "hello_world", Language: "en_US", Category: "UTILITY", Status: "APPROVED",
		Components: json.RawMessage(`[{"type":"BODY","text":"Hello World"}]`)},
}
