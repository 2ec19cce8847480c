package store

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/id"
)

// Organization is a tenant.
type Organization struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	// Plan names the organisation's /v1 rate limits (internal/ratelimit);
	// "" is the default plan.
	Plan string `json:"-"`
}

type orgItem struct {
	key
	Type      string `dynamodbav:"type"`
	ID        string `dynamodbav:"id"`
	Name      string `dynamodbav:"name"`
	CreatedAt string `dynamodbav:"created_at"`
	Plan      string `dynamodbav:"plan,omitempty"`
}

func (it orgItem) model() Organization {
	t, _ := time.Parse(time.RFC3339Nano, it.CreatedAt)
	return Organization{ID: it.ID, Name: it.Name, CreatedAt: t, Plan: it.Plan}
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

// SetOrganizationPlan records the organisation's plan (its /v1 rate
// limits; the caller checks the name).
func (s *Store) SetOrganizationPlan(ctx context.Context, orgID, plan string) error {
	in := updateInput(s.table, key{orgPK(orgID), orgSK()}, "SET #plan = :p", "attribute_exists(pk)",
		map[string]types.AttributeValue{":p": str(plan)})
	in.ExpressionAttributeNames = map[string]string{"#plan": "plan"}
	_, err := s.db.UpdateItem(ctx, in)
	if isConditionFailed(err) {
		return apperr.New(apperr.NotFound, "organization not found")
	}
	if err != nil {
		return unavailable("set organization plan", err)
	}
	return nil
}
