package graphsim_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/pytake/pytake/infra/local/graphsim"
	"github.com/pytake/pytake/internal/graph"
)

// TestWABAPhoneNumbers: the ownership reads PyTake makes before claiming a
// number, answered as Meta does, through PyTake's own Graph client.
func TestWABAPhoneNumbers(t *testing.T) {
	f := newFixture(t, nil)
	second := graphsim.Account{PhoneNumberID: "106540352249999", WABAID: acctA.WABAID, AccessToken: "second-number-token", AppSecret: "s"}
	f.sim.AddAccount(second)
	g := graph.New(f.srv.URL, f.srv.Client())
	ctx := context.Background()
	ids, err := g.PhoneNumbersOfWABA(ctx, "v26.0", acctA.WABAID, acctA.AccessToken)
	if err != nil || !slices.Equal(ids, []string{acctA.PhoneNumberID, second.PhoneNumberID}) {
		t.Fatalf("A's WABA: %v %v", ids, err)
	}
	var ge *graph.Error
	for _, c := range []struct {
		name, waba, token string
		code              int
	}{
		{"another WABA's token", acctA.WABAID, acctB.AccessToken, 100},
		{"unknown WABA", "999999999999999", acctA.AccessToken, 100},
		{"unknown token", acctA.WABAID, "nobody", 190},
	} {
		_, err := g.PhoneNumbersOfWABA(ctx, "v26.0", c.waba, c.token)
		if !errors.As(err, &ge) || ge.Code != c.code {
			t.Errorf("%s: %v, want Meta error %d", c.name, err, c.code)
		}
	}
	if _, err := g.GetPhoneNumber(ctx, "v26.0", acctA.PhoneNumberID, acctB.AccessToken); !errors.As(err, &ge) {
		t.Errorf("B's token reads A's number: %v", err)
	}
	if p, err := g.GetPhoneNumber(ctx, "v26.0", acctA.PhoneNumberID, acctA.AccessToken); err != nil || p.ID != acctA.PhoneNumberID {
		t.Errorf("A's number: %+v %v", p, err)
	}
}
