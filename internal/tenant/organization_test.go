package tenant_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
	"github.com/pytake/pytake/internal/tenant"
)

func TestCreateOrganization(t *testing.T) {
	ctx := context.Background()
	tb := storetest.New(t)
	st := store.New(tb.Client, tb.Name, time.Now)
	for _, mode := range []string{"live", "test"} {
		res, err := tenant.CreateOrganization(ctx, st, "Acme "+mode, mode)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(res.APIKey.Key, "pytake_"+mode+"_") || res.APIKey.Mode != mode {
			t.Fatalf("key %+v", res.APIKey)
		}
		k, err := st.KeyByHash(ctx, apikey.Hash(res.APIKey.Key))
		if err != nil || k.OrgID != res.Organization.ID {
			t.Fatalf("key lookup: %+v %v", k, err)
		}
	}
	_, err := tenant.CreateOrganization(ctx, st, "  ", "live")
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Kind != apperr.Unprocessable {
		t.Fatalf("blank name: %v", err)
	}
}
