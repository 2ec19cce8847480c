package store

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/id"
)

// Organization is a tenant.
type Organization struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

type orgItem struct {
	key
	Type      string `dynamodbav:"type"`
	ID        string `dynamodbav:"id"`
	Name      string `dynamodbav:"name"`
	CreatedAt string `dynamodbav:"created_at"`
}

func (it orgItem) model() Organization {
	t, _ := time.Parse(time.RFC3339Nano, it.CreatedAt)
	return Organization{ID: it.ID, Name: it.Name, CreatedAt: t}
}

// CreateOrganization creates an organisation with a new id.
func (s *Store) CreateOrganization(ctx context.Context, name string) (Organization, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return Organization{}, apperr.Field("name", "is required")
	}
	now := s.now()
	it := orgItem{
		key:       key{orgPK(""), orgSK()},
		Type:      typeOrganization,
		ID:        id.New(id.Organization, now),
		Name:      name,
		CreatedAt: timestamp(now),
	}
	it.PK = orgPK(it.ID)
	av, err := marshal(it)
	if err != nil {
		return Organization{}, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.table),
		Item:                av,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if isConditionFailed(err) {
		return Organization{}, conditionErr(apperr.Conflict, "organization id already exists")
	}
	if err != nil {
		return Organization{}, unavailable("create organization", err)
	}
	return it.model(), nil
}

// Organization reads one organisation; NotFound when it does not exist.
func (s *Store) Organization(ctx context.Context, orgID string) (Organization, error) {
	return getModel[orgItem](ctx, s, key{orgPK(orgID), orgSK()}, apperr.New(apperr.NotFound, "organization not found"))
}
