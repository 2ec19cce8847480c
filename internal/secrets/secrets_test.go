package secrets

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
)

// fakeSM is an in-memory Secrets Manager counting reads.
type fakeSM struct {
	values map[string]string
	gets   int
}

func (f *fakeSM) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.gets++
	v, ok := f.values[aws.ToString(in.SecretId)]
	if !ok {
		return nil, &smtypes.ResourceNotFoundException{Message: aws.String("no")}
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(v)}, nil
}

func (f *fakeSM) CreateSecret(_ context.Context, in *secretsmanager.CreateSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error) {
	f.values[aws.ToString(in.Name)] = aws.ToString(in.SecretString)
	return &secretsmanager.CreateSecretOutput{}, nil
}

func (f *fakeSM) PutSecretValue(_ context.Context, in *secretsmanager.PutSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	if _, ok := f.values[aws.ToString(in.SecretId)]; !ok {
		return nil, &smtypes.ResourceNotFoundException{Message: aws.String("no")}
	}
	f.values[aws.ToString(in.SecretId)] = aws.ToString(in.SecretString)
	return &secretsmanager.PutSecretValueOutput{}, nil
}

func TestPutGetCache(t *testing.T) {
	fake := &fakeSM{values: map[string]string{}}
	now := time.Unix(0, 0)
	s := New(fake, "pytake/dev/", time.Minute, func() time.Time { return now })
	ctx := context.Background()
	type cred struct{ Token string }
	var got cred
	if err := s.Get(ctx, "org_1", "whatsapp", &got); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("missing secret: %v", err)
	}
	require.NoError(t, s.Put(ctx, "org_1", "whatsapp", cred{"a"}))
	_, ok := fake.values["pytake/dev/org/org_1/whatsapp"]
	require.True(t, ok, "secret name: %v", fake.values)
	require.NoError(t, s.Put(ctx, "org_1", "whatsapp", cred{"b"}))
	s.Forget("org_1", "whatsapp")
	gets := fake.gets
	for i := 0; i < 3; i++ {
		err := s.Get(ctx, "org_1", "whatsapp", &got)
		require.NoError(t, err, "Get = %+v %v", got, err)
		require.Equal(t, "b", got.Token, "Get")
	}
	require.Equal(t, 1, fake.gets-gets, "cache: %d reads for 3 gets", fake.gets-gets)
	now = now.Add(2 * time.Minute)
	_ = s.Get(ctx, "org_1", "whatsapp", &got)
	require.Equal(t, 2, fake.gets-gets, "ttl not honoured: %d reads", fake.gets-gets)
}
