package msgtemplate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/store"
)

// Accounts lists every organisation's connection (store.Store).
type Accounts interface {
	WhatsAppAccounts(ctx context.Context, cursor string, limit int) (store.Page[store.WhatsAppAccount], error)
}

// Credentials reads an organisation's WhatsApp credentials.
type Credentials interface {
	Get(ctx context.Context, orgID, provider string, v any) error
}

// Fleet is what the scheduled sync needs.
type Fleet struct {
	Accounts    Accounts
	Credentials Credentials
	Graph       Lister
	Store       Syncer
	Events      Publisher
	Version     string // the default Graph API version
	Now         func() time.Time
	Log         *slog.Logger
	// Parallel bounds the organisations synced at once (default 4).
	Parallel int
	// Numbers and Signals, when set, refresh each number's throughput
	// level from Meta on every run (the sender's limit follows it; Meta's
	// THROUGHPUT_UPGRADE webhook records it too, when it comes).
	Numbers Numbers
	Signals Signals
}

// Numbers reads a phone number's fields from Meta (*graph.Client).
type Numbers interface {
	GetPhoneNumber(ctx context.Context, version, phoneNumberID, token string) (graph.PhoneNumber, error)
}

// Signals records what Meta says of a number (store.Store).
type Signals interface {
	UpdateWhatsAppSignals(ctx context.Context, orgID string, sig store.WhatsAppSignals) (store.WhatsAppAccount, error)
}

// FleetResult counts a scheduled sync.
type FleetResult struct {
	Synced, Skipped, Failed int
}

// SyncAll syncs the templates of every organisation whose connection names
// a WABA, a few at a time. One organisation's failure (its token refused,
// Meta unreachable) is logged and counted and does not stop the others;
// the error is only for a failure to list the connections, or when every
// organisation it tried failed.
func SyncAll(ctx context.Context, f Fleet) (FleetResult, error) {
	par := f.Parallel
	if par <= 0 {
		par = 4
	}
	var (
		mu  sync.Mutex
		res FleetResult
		wg  sync.WaitGroup
	)
	slots := make(chan struct{}, par)
	count := func(field *int) {
		mu.Lock()
		*field++
		mu.Unlock()
	}
	cursor := ""
	for {
		p, err := f.Accounts.WhatsAppAccounts(ctx, cursor, 100)
		if err != nil {
			wg.Wait()
			return res, fmt.Errorf("msgtemplate: list connections: %w", err)
		}
		for _, a := range p.Items {
			if a.WABAID == "" || !a.Healthy {
				count(&res.Skipped)
				continue
			}
			slots <- struct{}{}
			wg.Add(1)
			go func(a store.WhatsAppAccount) {
				defer func() { <-slots; wg.Done() }()
				if err := f.syncOne(ctx, a); err != nil {
					f.Log.WarnContext(ctx, "template sync failed", "org_id", a.OrgID, "error", err.Error())
					count(&res.Failed)
					return
				}
				count(&res.Synced)
			}(a)
		}
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	wg.Wait()
	if res.Failed > 0 && res.Synced == 0 {
		return res, fmt.Errorf("msgtemplate: every template sync failed (%d)", res.Failed)
	}
	return res, nil
}

func (f Fleet) syncOne(ctx context.Context, a store.WhatsAppAccount) error {
	var c secrets.WhatsApp
	err := f.Credentials.Get(ctx, a.OrgID, secrets.ProviderWhatsApp, &c)
	if apperr.Is(err, apperr.NotFound) {
		return errors.New("no WhatsApp credentials")
	}
	if err != nil {
		return err
	}
	version := c.GraphAPIVersion
	if version == "" {
		version = f.Version
	}
	f.refreshThroughput(ctx, a, version, c.AccessToken)
	waba := c.WABAID
	if waba == "" {
		waba = a.WABAID
	}
	_, err = Sync(ctx, f.Graph, f.Store, f.Events, Account{OrgID: a.OrgID, WABAID: waba, Version: version, Token: c.AccessToken}, f.Now())
	return err
}

// refreshThroughput records the number's throughput level as Meta reports
// it now, when it changed. A failure is logged: the templates are synced
// anyway, and the level is read again on the next run.
func (f Fleet) refreshThroughput(ctx context.Context, a store.WhatsAppAccount, version, token string) {
	if f.Numbers == nil || f.Signals == nil {
		return
	}
	p, err := f.Numbers.GetPhoneNumber(ctx, version, a.PhoneNumberID, token)
	if err != nil {
		f.Log.WarnContext(ctx, "throughput level not read", "org_id", a.OrgID, "error", err.Error())
		return
	}
	if p.Throughput.Level == "" || p.Throughput.Level == a.Signals.ThroughputLevel {
		return
	}
	if _, err := f.Signals.UpdateWhatsAppSignals(ctx, a.OrgID, store.WhatsAppSignals{ThroughputLevel: p.Throughput.Level}); err != nil {
		f.Log.WarnContext(ctx, "throughput level not recorded", "org_id", a.OrgID, "error", err.Error())
		return
	}
	f.Log.InfoContext(ctx, "throughput level changed", "org_id", a.OrgID, "from", a.Signals.ThroughputLevel, "to", p.Throughput.Level)
}
