package awsconf

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/require"
)

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		wantErr  bool
		region   string
		endpoint string
	}{
		{"lambda", map[string]string{"AWS_REGION": "sa-east-1", "AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "S", "AWS_SESSION_TOKEN": "T"}, false, "sa-east-1", ""},
		{"local", map[string]string{"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}, false, "us-east-1", "http://127.0.0.1:5000"},
		{"no region", map[string]string{"AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "S"}, true, "", ""},
		{"no credentials", map[string]string{"AWS_REGION": "us-east-1"}, true, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := FromEnv(func(k string) string { return tt.env[k] })
			require.Equal(t, tt.wantErr, err != nil, "err = %v", err)
			if err != nil {
				return
			}
			require.Equal(t, tt.region, cfg.Region, "cfg region %q endpoint %q", cfg.Region, aws.ToString(cfg.BaseEndpoint))
			require.Equal(t, tt.endpoint, aws.ToString(cfg.BaseEndpoint), "cfg region %q endpoint %q", cfg.Region, aws.ToString(cfg.BaseEndpoint))
			c, err := cfg.Credentials.Retrieve(context.Background())
			require.NoError(t, err, "credentials %+v %v", c, err)
			require.Equal(t, tt.env["AWS_ACCESS_KEY_ID"], c.AccessKeyID, "credentials %+v %v", c, err)
			require.Equal(t, tt.env["AWS_SESSION_TOKEN"], c.SessionToken, "credentials %+v %v", c, err)
		})
	}
}

func TestRequire(t *testing.T) {
	env := map[string]string{"TABLE_NAME": "t", "EMPTY": ""}
	got, err := Require(func(k string) string { return env[k] }, "TABLE_NAME")
	require.NoError(t, err, "Require = %v, %v", got, err)
	require.Equal(t, "t", got["TABLE_NAME"], "Require")
	_, err = Require(func(k string) string { return env[k] }, "TABLE_NAME", "EMPTY", "MISSING")
	require.Error(t, err, "err = %v", err)
	require.Equal(t, "not set: EMPTY, MISSING", err.Error(), "err")
}

func TestPositiveInt(t *testing.T) {
	env := map[string]string{"N": "250", "ZERO": "0", "WORD": "ten"}
	get := func(k string) string { return env[k] }
	for _, tc := range []struct {
		key  string
		want int
		err  string
	}{
		{"N", 250, ""}, {"UNSET", 80, ""},
		{"ZERO", 0, `ZERO must be a positive integer, got "0"`}, {"WORD", 0, `WORD must be a positive integer, got "ten"`},
	} {
		got, err := PositiveInt(get, tc.key, 80)
		if tc.err != "" {
			require.EqualError(t, err, tc.err)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tc.want, got, tc.key)
	}
}
