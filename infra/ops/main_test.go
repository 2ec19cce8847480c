package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
	"github.com/pytake/pytake/internal/tenant"
)

func TestCreateOrg(t *testing.T) {
	tb := storetest.New(t)
	t.Setenv("AWS_ENDPOINT_URL", tb.URL)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	env := map[string]string{"TABLE_NAME": tb.Name}
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"create-org", "--name", "Acme", "--mode", "test"}, func(k string) string { return env[k] }, nil, &out))
	var res tenant.Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	require.Equal(t, "Acme", res.Organization.Name, "result %+v", res)
	require.True(t, strings.HasPrefix(res.APIKey.Key, "pytake_test_"), "result %+v", res)
	st := store.New(tb.Client, tb.Name, time.Now)
	k, err := st.KeyByHash(context.Background(), apikey.Hash(res.APIKey.Key))
	require.NoError(t, err, "key not stored: %+v %v", k, err)
	require.Equal(t, res.Organization.ID, k.OrgID, "key not stored")
}

func TestUsageErrors(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	none := func(string) string { return "" }
	table := func(k string) string {
		if k == "TABLE_NAME" {
			return "t"
		}
		return ""
	}
	for _, c := range []struct {
		args []string
		env  func(string) string
		want string
	}{
		{nil, none, "usage"},
		{[]string{"create-org", "--name", "x"}, none, "TABLE_NAME"},
		{[]string{"create-org", "--bogus"}, none, "flag provided but not defined"},
		{[]string{"create-org", "--name", "x", "--mode", "prod"}, table, "--mode"},
		{[]string{"set-whatsapp"}, table, "--org"},
		{[]string{"set-send-rate", "--org", "org_1"}, table, "--per-second"},
		{[]string{"set-whatsapp", "--org", "org_1"}, table, "SECRETS_PREFIX"},
		{[]string{"explode"}, table, "unknown command"},
	} {
		err := run(context.Background(), c.args, c.env, strings.NewReader(""), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
	}
}

// set-send-rate overrides the organisation's send limit (the sender reads
// it with the account).
func TestSetSendRate(t *testing.T) {
	tb := storetest.New(t)
	t.Setenv("AWS_ENDPOINT_URL", tb.URL)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	env := func(k string) string { return map[string]string{"TABLE_NAME": tb.Name}[k] }
	ctx := context.Background()
	st := store.New(tb.Client, tb.Name, time.Now)
	org, err := st.CreateOrganization(ctx, "A")
	require.NoError(t, err)
	err = run(ctx, []string{"set-send-rate", "--org", org.ID, "--per-second", "300"}, env, nil, &bytes.Buffer{})
	require.Error(t, err, "no WhatsApp connection yet")
	_, err = st.PutWhatsAppAccount(ctx, store.WhatsAppAccount{OrgID: org.ID, PhoneNumberID: "1001", VerifyTokenHash: "h"})
	require.NoError(t, err)
	require.NoError(t, run(ctx, []string{"set-send-rate", "--org", org.ID, "--per-second", "300"}, env, nil, &bytes.Buffer{}))
	a, err := st.WhatsAppAccount(ctx, org.ID)
	require.NoError(t, err)
	require.Equal(t, 300, a.SendRateOverride)
}
