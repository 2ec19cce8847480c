package inbound_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/inbound"
)

// FuzzParsePlan: any bytes either fail to parse as an envelope or yield a
// plan in which every item is either planned or kept raw with a reason.
func FuzzParsePlan(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, file := range files {
		b, _ := os.ReadFile(file)
		f.Add(b)
	}
	f.Add([]byte(`{"entry":[{"changes":[{"field":"messages","value":{"messages":[1,{"id":""}],"statuses":[null]}}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := inbound.ParsePlan(body)
		if err != nil {
			return
		}
		for _, ch := range p.Changes {
			for _, m := range ch.Messages {
				if m.Bad == "" && (m.In.WAMID == "" || len(m.In.Content) == 0) {
					t.Fatalf("planned message without id or content: %+v", m)
				}
				require.NotEmpty(t, m.Raw, "message raw JSON lost")
			}
			for _, s := range ch.Statuses {
				if s.Bad == "" && (s.Update.WAMID == "" || s.Update.Status == "") {
					t.Fatalf("planned status without id: %+v", s)
				}
			}
		}
	})
}
