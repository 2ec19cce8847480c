package tenant_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(res.APIKey.Key, "pytake_"+mode+"_"), "key %+v", res.APIKey)
		require.Equal(t, mode, res.APIKey.Mode, "key %+v", res.APIKey)
		k, err := st.KeyByHash(ctx, apikey.Hash(res.APIKey.Key))
		require.NoError(t, err, "key lookup: %+v %v", k, err)
		require.Equal(t, res.Organization.ID, k.OrgID, "key lookup")
	}
	_, err := tenant.CreateOrganization(ctx, st, "  ", "live")
	var ae *apperr.Error
	require.True(t, errors.As(err, &ae), "blank name: %v", err)
	require.Equal(t, apperr.Unprocessable, ae.Kind, "blank name")
}
