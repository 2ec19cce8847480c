package awsapi

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// SecretsManager calls AWS Secrets Manager (AWS JSON 1.1). Errors of a
// missing or an existing secret have Code ResourceNotFoundException or
// ResourceExistsException (see HasCode).
type SecretsManager struct{ c jsonCaller }

// Error codes callers tell apart.
const (
	ResourceNotFound = "ResourceNotFoundException"
	ResourceExists   = "ResourceExistsException"
)

// NewSecretsManager returns a Secrets Manager client for cfg.
func NewSecretsManager(cfg aws.Config) *SecretsManager {
	return &SecretsManager{c: jsonCaller{caller: newCaller(cfg, "secretsmanager", parseJSONError), contentType: "application/x-amz-json-1.1", prefix: "secretsmanager"}}
}

// GetSecretValueInput names the secret to read.
type GetSecretValueInput struct{ SecretID string }

// GetSecretValueOutput is a secret's current string value.
type GetSecretValueOutput struct {
	ARN          string `json:"ARN"`
	Name         string `json:"Name"`
	VersionID    string `json:"VersionId"`
	SecretString string `json:"SecretString"`
}

// GetSecretValue reads a secret's current value.
func (s *SecretsManager) GetSecretValue(ctx context.Context, in *GetSecretValueInput) (*GetSecretValueOutput, error) {
	var out GetSecretValueOutput
	err := s.c.do(ctx, "GetSecretValue", struct {
		SecretID string `json:"SecretId"`
	}{in.SecretID}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Tag is a secret's tag.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// CreateSecretInput is a new secret.
type CreateSecretInput struct {
	Name         string
	Description  string
	SecretString string
	Tags         []Tag
}

// CreateSecret creates a secret with its first value.
func (s *SecretsManager) CreateSecret(ctx context.Context, in *CreateSecretInput) error {
	token, err := requestToken()
	if err != nil {
		return err
	}
	return s.c.do(ctx, "CreateSecret", struct {
		Name               string `json:"Name"`
		Description        string `json:"Description,omitempty"`
		SecretString       string `json:"SecretString"`
		Tags               []Tag  `json:"Tags,omitempty"`
		ClientRequestToken string `json:"ClientRequestToken"`
	}{in.Name, in.Description, in.SecretString, in.Tags, token}, nil)
}

// PutSecretValueInput is a secret's new value.
type PutSecretValueInput struct {
	SecretID     string
	SecretString string
}

// PutSecretValue gives an existing secret a new current value.
func (s *SecretsManager) PutSecretValue(ctx context.Context, in *PutSecretValueInput) error {
	token, err := requestToken()
	if err != nil {
		return err
	}
	return s.c.do(ctx, "PutSecretValue", struct {
		SecretID           string `json:"SecretId"`
		SecretString       string `json:"SecretString"`
		ClientRequestToken string `json:"ClientRequestToken"`
	}{in.SecretID, in.SecretString, token}, nil)
}

// DeleteSecretInput names a secret to delete.
type DeleteSecretInput struct {
	SecretID string
	// ForceDeleteWithoutRecovery deletes it at once.
	ForceDeleteWithoutRecovery bool
}

// DeleteSecret deletes a secret.
func (s *SecretsManager) DeleteSecret(ctx context.Context, in *DeleteSecretInput) error {
	return s.c.do(ctx, "DeleteSecret", struct {
		SecretID string `json:"SecretId"`
		Force    bool   `json:"ForceDeleteWithoutRecovery,omitempty"`
	}{in.SecretID, in.ForceDeleteWithoutRecovery}, nil)
}

// requestToken is a new version's ClientRequestToken (a random UUID, as the
// SDK fills in): the same on every retry of one call, so a retried write
// makes one version.
func requestToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("awsapi: request token: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}
