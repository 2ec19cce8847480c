package awsconf

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
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
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				return
			}
			if cfg.Region != tt.region || aws.ToString(cfg.BaseEndpoint) != tt.endpoint {
				t.Fatalf("cfg region %q endpoint %q", cfg.Region, aws.ToString(cfg.BaseEndpoint))
			}
			c, err := cfg.Credentials.Retrieve(context.Background())
			if err != nil || c.AccessKeyID != tt.env["AWS_ACCESS_KEY_ID"] || c.SessionToken != tt.env["AWS_SESSION_TOKEN"] {
				t.Fatalf("credentials %+v %v", c, err)
			}
		})
	}
}

func TestRequire(t *testing.T) {
	env := map[string]string{"TABLE_NAME": "t", "EMPTY": ""}
	got, err := Require(func(k string) string { return env[k] }, "TABLE_NAME")
	if err != nil || got["TABLE_NAME"] != "t" {
		t.Fatalf("Require = %v, %v", got, err)
	}
	_, err = Require(func(k string) string { return env[k] }, "TABLE_NAME", "EMPTY", "MISSING")
	if err == nil || err.Error() != "not set: EMPTY, MISSING" {
		t.Fatalf("err = %v", err)
	}
}
