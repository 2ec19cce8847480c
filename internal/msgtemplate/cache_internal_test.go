package msgtemplate

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/store"
)

// approvedCopy answers every template approved, of the organisation asked.
type approvedCopy struct{ reads int }

func (c *approvedCopy) TemplatesSyncedAt(context.Context, string) (*time.Time, error) {
	c.reads++
	t := time.Unix(0, 0)
	return &t, nil
}

func (c *approvedCopy) Template(_ context.Context, org, name, language string) (store.Template, error) {
	c.reads++
	return store.Template{OrgID: org, Name: name, Language: language, Status: "APPROVED"}, nil
}

func (c *approvedCopy) TemplatesNamed(context.Context, string, string) ([]store.Template, error) {
	return nil, nil
}

// The cache keeps at most cacheMax templates and sync times, by
// dropping expired entries first; the entry just read stays.
func TestTemplateCacheBounded(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	src := &approvedCopy{}
	c := NewCache(src, func() time.Time { return now }, time.Second)
	for i := range cacheMax + 100 {
		org := "org" + strconv.Itoa(i)
		if i == cacheMax/2 {
			now = now.Add(time.Second) // the first half expires
		}
		_, err := c.TemplatesSyncedAt(ctx, org)
		require.NoError(t, err)
		got, err := c.Template(ctx, org, "promo", "pt_BR")
		require.NoError(t, err)
		require.Equal(t, org, got.OrgID)
		require.LessOrEqual(t, len(c.tpls), cacheMax)
		require.LessOrEqual(t, len(c.synced), cacheMax)
	}
	require.Contains(t, c.tpls, templateKey{"org" + strconv.Itoa(cacheMax+99), "promo", "pt_BR"})
	reads := src.reads
	_, err := c.Template(ctx, "org"+strconv.Itoa(cacheMax+99), "promo", "pt_BR")
	require.NoError(t, err)
	require.Equal(t, reads, src.reads, "the newest entry is kept")
}
