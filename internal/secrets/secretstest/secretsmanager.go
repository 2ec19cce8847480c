package secretstest

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// SecretsManager is Secrets Manager in memory, the API secrets.New takes:
// several secrets.Store instances (one per Lambda container, each with its
// own cache) may share one, as functions share the real service. It counts
// reads, so tests can check what the caches spare.
type SecretsManager struct {
	mu     sync.Mutex
	values map[string]string
	reads  int
}

// NewSecretsManager returns an empty Secrets Manager.
func NewSecretsManager() *SecretsManager {
	return &SecretsManager{values: map[string]string{}}
}

// GetSecretValue returns a secret's string, or ResourceNotFoundException.
func (f *SecretsManager) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	v, ok := f.values[aws.ToString(in.SecretId)]
	if !ok {
		return nil, &smtypes.ResourceNotFoundException{Message: aws.String("no secret")}
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(v)}, nil
}

// CreateSecret stores a new secret.
func (f *SecretsManager) CreateSecret(_ context.Context, in *secretsmanager.CreateSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.values[aws.ToString(in.Name)] = aws.ToString(in.SecretString)
	return &secretsmanager.CreateSecretOutput{}, nil
}

// PutSecretValue replaces an existing secret's value, or answers
// ResourceNotFoundException.
func (f *SecretsManager) PutSecretValue(_ context.Context, in *secretsmanager.PutSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := aws.ToString(in.SecretId)
	if _, ok := f.values[name]; !ok {
		return nil, &smtypes.ResourceNotFoundException{Message: aws.String("no secret")}
	}
	f.values[name] = aws.ToString(in.SecretString)
	return &secretsmanager.PutSecretValueOutput{}, nil
}

// Reads is how many times GetSecretValue was called.
func (f *SecretsManager) Reads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

// Names are the names of the stored secrets, in no order.
func (f *SecretsManager) Names() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	names := make([]string, 0, len(f.values))
	for n := range f.values {
		names = append(names, n)
	}
	return names
}

// Has says whether a secret of that name exists.
func (f *SecretsManager) Has(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.values[name]
	return ok
}
