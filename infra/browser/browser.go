// Package browser drives Debian's headless Chromium from Go tests
// (github.com/chromedp/chromedp), with the flags that work on a machine
// whose only network is loopback and the package registries, and collects
// what a person would call a broken page: console errors, uncaught
// exceptions and failed requests.
//
// `make chromium` installs the browser (Debian's chromium and
// chromium-driver, with apt-get, when missing). Any page test of the
// project (the API reference today, a dashboard later) uses it the same way:
//
//	b, err := browser.Start(ctx, browser.Options{})
//	defer b.Close()
//	p, err := b.Open(ctx, url)
//	n, err := browser.Eval[int](p, `document.querySelectorAll("h2").length`)
//	if errs := p.Problems(); len(errs) > 0 { t.Fatal(errs) }
package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// ExecPath is where Debian's chromium package puts the browser.
const ExecPath = "/usr/bin/chromium"

// Flags are the command-line switches every start uses besides
// --user-data-dir: headless, no sandbox (tests run as root), and none of
// Chromium's own background connections, which this machine's closed
// network refuses.
var Flags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
}

// Options tune Start. The zero value is ready to use.
type Options struct {
	// ExecPath overrides the browser binary (default: $CHROMIUM, else
	// ExecPath).
	ExecPath string
	// Width and Height are the window size (default 1280x900).
	Width, Height int
	// Log receives Chromium's own log lines (default: dropped).
	Log func(format string, args ...any)
}

// Browser is one running Chromium with a fresh profile.
type Browser struct {
	ctx     context.Context
	cancel  context.CancelFunc
	profile string
}

// Available says whether the browser binary is installed, and where.
func Available(opts Options) (string, bool) {
	path := execPath(opts)
	if _, err := exec.LookPath(path); err != nil {
		return path, false
	}
	return path, true
}

func execPath(opts Options) string {
	if opts.ExecPath != "" {
		return opts.ExecPath
	}
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	return ExecPath
}

// Start launches Chromium with Flags and a new, empty --user-data-dir,
// removed by Close.
func Start(ctx context.Context, opts Options) (*Browser, error) {
	path, ok := Available(opts)
	if !ok {
		return nil, fmt.Errorf("chromium not found at %s (make chromium installs it)", path)
	}
	profile, err := os.MkdirTemp("", "pytake-chromium-")
	if err != nil {
		return nil, fmt.Errorf("chromium profile: %w", err)
	}
	w, h := opts.Width, opts.Height
	if w <= 0 || h <= 0 {
		w, h = 1280, 900
	}
	allocOpts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.UserDataDir(profile), chromedp.WindowSize(w, h),
		chromedp.NoDefaultBrowserCheck,
	}
	for _, f := range Flags {
		name, value, hasValue := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		if hasValue {
			allocOpts = append(allocOpts, chromedp.Flag(name, value))
		} else {
			allocOpts = append(allocOpts, chromedp.Flag(name, true))
		}
	}
	actx, acancel := chromedp.NewExecAllocator(ctx, allocOpts...)
	var ctxOpts []chromedp.ContextOption
	if opts.Log != nil {
		ctxOpts = append(ctxOpts, chromedp.WithLogf(opts.Log), chromedp.WithErrorf(opts.Log))
	}
	bctx, bcancel := chromedp.NewContext(actx, ctxOpts...)
	// The first Do starts the browser.
	if err := chromedp.Do(bctx); err != nil {
		bcancel()
		acancel()
		_ = os.RemoveAll(profile)
		return nil, fmt.Errorf("start chromium: %w", err)
	}
	return &Browser{ctx: bctx, cancel: func() { bcancel(); acancel() }, profile: profile}, nil
}

// Close stops the browser and removes its profile.
func (b *Browser) Close() {
	b.cancel()
	_ = os.RemoveAll(b.profile)
}

// Page is one tab, with what went wrong on it so far.
type Page struct {
	// Ctx is the tab's chromedp context: pass it to chromedp.Run.
	Ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	problems []string
	urls     map[network.RequestID]string // what each request asked for, to name it when it fails
}

// Open opens url in a new tab, waits for the document to finish loading
// and returns the tab. Problems are recorded from before the navigation.
func (b *Browser) Open(ctx context.Context, url string) (*Page, error) {
	p := &Page{}
	// The listener is there from the tab's first command (chromedp enables
	// the Network and Runtime domains when it attaches), so nothing the
	// page does while loading is missed.
	p.Ctx, p.cancel = chromedp.NewContext(b.ctx, chromedp.WithListener(p.listen))
	cancel := p.cancel
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(p.Ctx, chromedp.Navigate(url)) }()
	select {
	case err := <-done:
		if err != nil {
			cancel()
			return nil, fmt.Errorf("navigate to %s: %w", url, err)
		}
	case <-ctx.Done():
		cancel()
		return nil, fmt.Errorf("navigate to %s: %w", url, ctx.Err())
	}
	return p, nil
}

// Close closes the tab.
func (p *Page) Close() { p.cancel() }

func (p *Page) listen(ev any) {
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == "error" || e.Type == "assert" {
			p.add("console.%s: %s", e.Type, args(e.Args))
		}
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		msg := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg += " " + d.Exception.Description
		}
		p.add("uncaught exception at %s:%d: %s", d.URL, d.LineNumber, msg)
	case *network.EventRequestWillBeSent:
		p.mu.Lock()
		if p.urls == nil {
			p.urls = map[network.RequestID]string{}
		}
		p.urls[e.RequestID] = e.Request.URL
		p.mu.Unlock()
	case *network.EventLoadingFailed:
		if !e.Canceled {
			p.mu.Lock()
			url := p.urls[e.RequestID]
			p.mu.Unlock()
			p.add("request failed (%s): %s %s", e.Type, url, e.ErrorText)
		}
	case *network.EventResponseReceived:
		// The browser asks for /favicon.ico by itself; a page that has none
		// is not broken.
		if e.Response.Status >= 400 && !strings.HasSuffix(e.Response.URL, "/favicon.ico") {
			p.add("HTTP %d for %s", int(e.Response.Status), e.Response.URL)
		}
	}
}

func args(as []*runtime.RemoteObject) string {
	var parts []string
	for _, a := range as {
		switch {
		case len(a.Value) > 0:
			parts = append(parts, string(a.Value))
		case a.Description != "":
			parts = append(parts, a.Description)
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, " ")
}

func (p *Page) add(format string, a ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.problems = append(p.problems, fmt.Sprintf(format, a...))
}

// Problems lists the console errors, uncaught exceptions, failed requests
// and HTTP error answers seen on the page so far.
func (p *Page) Problems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.problems...)
}

// WaitFor polls the JavaScript expression js (which must evaluate to a
// boolean) until it is true or timeout passes.
func (p *Page) WaitFor(js string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := chromedp.Run(p.Ctx, chromedp.Evaluate[bool](js))
		if err != nil {
			return fmt.Errorf("evaluate %q: %w", js, err)
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("timed out waiting for " + js)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Eval evaluates js in the page and decodes its JSON value as T.
func Eval[T any](p *Page, js string) (T, error) {
	v, err := chromedp.Run(p.Ctx, chromedp.Evaluate[T](js))
	if err != nil {
		return v, fmt.Errorf("evaluate: %w", err)
	}
	return v, nil
}

// Screenshot captures the whole page as PNG (quality 100 is PNG in chromedp).
func (p *Page) Screenshot() ([]byte, error) {
	png, err := chromedp.Run(p.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return nil, fmt.Errorf("screenshot: %w", err)
	}
	return png, nil
}
