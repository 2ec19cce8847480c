package msgtemplate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pytake/pytake/internal/apperr"
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
	waba := c.WABAID
	if waba == "" {
		waba = a.WABAID
	}
	_, err = Sync(ctx, f.Graph, f.Store, f.Events, Account{OrgID: a.OrgID, WABAID: waba, Version: version, Token: c.AccessToken}, f.Now())
	return err
}
