package secretstest

import (
	"context"
	"sync"

	"net/http"

	"github.com/pytake/pytake/internal/awsapi"
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
func (f *SecretsManager) GetSecretValue(_ context.Context, in *awsapi.GetSecretValueInput) (*awsapi.GetSecretValueOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	v, ok := f.values[in.SecretID]
	if !ok {
		return nil, notFound()
	}
	return &awsapi.GetSecretValueOutput{SecretString: v}, nil
}

// CreateSecret stores a new secret.
func (f *SecretsManager) CreateSecret(_ context.Context, in *awsapi.CreateSecretInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.values[in.Name] = in.SecretString
	return nil
}

// PutSecretValue replaces an existing secret's value, or answers
// ResourceNotFoundException.
func (f *SecretsManager) PutSecretValue(_ context.Context, in *awsapi.PutSecretValueInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := in.SecretID
	if _, ok := f.values[name]; !ok {
		return notFound()
	}
	f.values[name] = in.SecretString
	return nil
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

// notFound is the error Secrets Manager answers for a missing secret.
func notFound() error {
	return &awsapi.Error{Service: "secretsmanager", Status: http.StatusBadRequest, Code: awsapi.ResourceNotFound, Message: "no secret"}
}
