package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// LambdaBuildFlags are the go build flags of every Lambda artifact: the
// Makefile's LAMBDA_FLAGS, which TestLambdaBuildFlagsAreTheMakefiles keeps
// them equal to.
func LambdaBuildFlags() []string {
	return []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w"}
}

// BuildFunctions compiles every function for this machine with the flags
// the deployed artifacts use, into dir/<functions dir>.
func BuildFunctions(ctx context.Context, root, dir string, fns []Function) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("build dir: %w", err)
	}
	args := append(append([]string{"build"}, LambdaBuildFlags()...), "-o", dir+string(os.PathSeparator))
	for _, f := range fns {
		args = append(args, "./functions/"+f.Dir)
	}
	cmd := exec.CommandContext(ctx, goBinary(), args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build functions: %w\n%s", err, out)
	}
	return nil
}

func goBinary() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}

// Invocation is the result of one Lambda invoke.
type Invocation struct {
	Payload []byte
	// Err is set when the function failed (returned an error, panicked,
	// timed out or crashed); Payload then holds what the emulator said.
	Err error
}

// Invoker invokes a function by logical id.
type Invoker interface {
	Invoke(ctx context.Context, function string, payload []byte) Invocation
}

// emulator is one aws-lambda-rie process running one function binary. The
// emulator handles one invoke at a time, so callers hold it exclusively.
type emulator struct {
	fn      Function
	rie     string
	binary  string
	env     []string
	logs    io.Writer
	addr    string
	cmd     *exec.Cmd
	exited  chan struct{}
	started bool
}

// start runs the emulator; a port taken between choosing and binding it
// makes the emulator exit, so it tries a few times.
func (e *emulator) start(ctx context.Context) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = e.startOnce(ctx); err == nil || !errors.Is(err, errExited) {
			return err
		}
	}
	return err
}

var errExited = errors.New("exited before listening")

func (e *emulator) startOnce(ctx context.Context) error {
	invokePort, err := freePort()
	if err != nil {
		return err
	}
	apiPort, err := freePort()
	if err != nil {
		return err
	}
	e.addr = "127.0.0.1:" + strconv.Itoa(invokePort)
	cmd := exec.Command(e.rie,
		"--log-level", "warn",
		"--runtime-interface-emulator-address", e.addr,
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(apiPort),
		e.binary)
	cmd.Env = e.env
	cmd.Dir = filepath.Dir(e.binary)
	cmd.Stdout = e.logs
	cmd.Stderr = e.logs
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start emulator for %s: %w", e.fn.LogicalID, err)
	}
	e.cmd = cmd
	e.exited = make(chan struct{})
	go func() { _ = cmd.Wait(); close(e.exited) }()
	if err := waitTCP(ctx, e.addr, 10*time.Second, e.exited); err != nil {
		e.stop()
		return fmt.Errorf("emulator for %s: %w", e.fn.LogicalID, err)
	}
	e.started = true
	return nil
}

func (e *emulator) stop() {
	if e.cmd == nil || e.cmd.Process == nil {
		return
	}
	killGroup(e.cmd)
	select {
	case <-e.exited:
	case <-time.After(5 * time.Second):
	}
	e.started = false
}

var errFunction = errors.New("function error")

func (e *emulator) invoke(ctx context.Context, payload []byte) Invocation {
	url := "http://" + e.addr + "/2015-03-31/functions/function/invocations"
	// The emulator enforces the function's timeout; give it a margin.
	ctx, cancel := context.WithTimeout(ctx, time.Duration(e.fn.Timeout+5)*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return Invocation{Err: err}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Invocation{Err: fmt.Errorf("invoke %s: %w", e.fn.LogicalID, err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return Invocation{Err: fmt.Errorf("invoke %s: read: %w", e.fn.LogicalID, err)}
	}
	if resp.StatusCode != http.StatusOK {
		return Invocation{Payload: body, Err: fmt.Errorf("invoke %s: emulator answered %d: %w", e.fn.LogicalID, resp.StatusCode, errFunction)}
	}
	if isFunctionError(body) {
		return Invocation{Payload: body, Err: fmt.Errorf("invoke %s: %s: %w", e.fn.LogicalID, body, errFunction)}
	}
	return Invocation{Payload: body}
}

// isFunctionError recognises the Runtime API's error document and the
// emulator's timeout text.
func isFunctionError(body []byte) bool {
	if bytes.HasPrefix(body, []byte("Task timed out")) {
		return true
	}
	var doc struct {
		ErrorType    *string `json:"errorType"`
		ErrorMessage *string `json:"errorMessage"`
		StatusCode   *int    `json:"statusCode"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return false
	}
	return doc.StatusCode == nil && (doc.ErrorType != nil || doc.ErrorMessage != nil)
}

// Pool runs a few emulators per function and hands each invoke to a free
// one, restarting an emulator after a failed invoke (a timed-out or crashed
// runtime is not reused).
type Pool struct {
	mu    sync.Mutex
	free  map[string]chan *emulator
	all   []*emulator
	start time.Time
}

// PoolConfig says how to run the functions.
type PoolConfig struct {
	RIE       string // aws-lambda-rie path
	BinDir    string // where BuildFunctions put the binaries
	Env       func(Function) ([]string, error)
	Logs      func(Function) io.Writer
	PerFunc   int // emulators per function (default 2)
	Functions []Function
}

// StartPool starts the emulators.
func StartPool(ctx context.Context, c PoolConfig) (*Pool, error) {
	if c.PerFunc <= 0 {
		c.PerFunc = 2
	}
	p := &Pool{free: map[string]chan *emulator{}, start: time.Now()}
	for _, f := range c.Functions {
		env, err := c.Env(f)
		if err != nil {
			p.Close()
			return nil, err
		}
		ch := make(chan *emulator, c.PerFunc)
		for i := 0; i < c.PerFunc; i++ {
			e := &emulator{fn: f, rie: c.RIE, binary: filepath.Join(c.BinDir, f.Dir), env: env, logs: c.Logs(f)}
			if err := e.start(ctx); err != nil {
				p.Close()
				return nil, err
			}
			p.all = append(p.all, e)
			ch <- e
		}
		p.free[f.LogicalID] = ch
	}
	return p, nil
}

// Invoke runs one invoke on a free emulator of the function.
func (p *Pool) Invoke(ctx context.Context, function string, payload []byte) Invocation {
	ch, ok := p.free[function]
	if !ok {
		return Invocation{Err: fmt.Errorf("no function %s", function)}
	}
	var e *emulator
	select {
	case e = <-ch:
	case <-ctx.Done():
		return Invocation{Err: ctx.Err()}
	}
	defer func() { ch <- e }()
	inv := e.invoke(ctx, payload)
	if inv.Err != nil && ctx.Err() == nil && !isHandledError(inv.Payload) {
		// Timed out, crashed or unreachable: start a fresh runtime.
		p.mu.Lock()
		e.stop()
		if err := e.start(context.Background()); err != nil {
			inv.Err = errors.Join(inv.Err, err)
		}
		p.mu.Unlock()
	}
	return inv
}

// isHandledError is an error the handler returned: the runtime is healthy.
func isHandledError(body []byte) bool {
	var doc struct {
		ErrorType string `json:"errorType"`
	}
	return json.Unmarshal(body, &doc) == nil && doc.ErrorType != "" && doc.ErrorType != "Runtime.ExitError"
}

// Close stops every emulator.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.all {
		e.stop()
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitTCP(ctx context.Context, addr string, limit time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on %s after %s", addr, limit)
		}
		select {
		case <-exited:
			return errExited
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Emulator is one function binary under a fresh emulator whose runtime has
// not started yet: its first Invoke is a cold start.
type Emulator struct{ e *emulator }

// StartEmulator starts the emulator (the runtime itself starts on the first
// invoke, as in Lambda).
func StartEmulator(ctx context.Context, rie, binary string, env []string) (*Emulator, error) {
	e := &emulator{fn: Function{LogicalID: filepath.Base(binary), Timeout: 10}, rie: rie, binary: binary, env: env, logs: io.Discard}
	if err := e.start(ctx); err != nil {
		return nil, err
	}
	return &Emulator{e: e}, nil
}

// Invoke sends one event.
func (e *Emulator) Invoke(ctx context.Context, payload []byte) Invocation {
	return e.e.invoke(ctx, payload)
}

// Stop ends the emulator and the runtime.
func (e *Emulator) Stop() { e.e.stop() }

// FunctionEnvList is a function's full environment under the emulator, as
// KEY=value pairs.
func (s *Stack) FunctionEnvList(logicalID string) ([]string, error) {
	for _, f := range s.Functions {
		if f.LogicalID == logicalID {
			return s.functionEnv(f)
		}
	}
	return nil, fmt.Errorf("no function %s", logicalID)
}

// RIE is the emulator binary the stack runs.
func (s *Stack) RIE() string { return s.cfg.RIE }

// BinDir is where the stack built the functions.
func (s *Stack) BinDir() string { return filepath.Join(s.cfg.StateDir, "bin") }
