package store

import (
	"maps"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// FuzzDecodeCursor: a cursor is client input. Decoding never panics and
// yields only key attributes; every cursor the store hands out decodes to
// the key it was made from.
func FuzzDecodeCursor(f *testing.F) {
	f.Add("eyJwayI6Ik9SRyNvcmdfMSIsInNrIjoiQ09OVEFDVCNjdF8xIn0", "ORG#org_1", "CONTACT#ct_1")
	f.Add("zzz", "", "")
	f.Add("e30", "a", "b")                     // {}
	f.Add("eyJ4IjoiMSJ9", "ORG#o", "MSG#\x00") // {"x":"1"}
	f.Add("eyJwayI6MX0", "é", "\ufffd")        // {"pk":1}
	f.Fuzz(func(t *testing.T, cursor, pk, sk string) {
		if m, err := decodeCursor(cursor); err == nil {
			for k := range m {
				switch k {
				case attrPK, attrSK, attrGSI1PK, attrGSI1SK:
				default:
					t.Fatalf("decodeCursor(%q) let %q through", cursor, k)
				}
			}
		}
		key := map[string]types.AttributeValue{
			attrPK: &types.AttributeValueMemberS{Value: pk}, attrSK: &types.AttributeValueMemberS{Value: sk},
			attrGSI1PK: &types.AttributeValueMemberS{Value: sk + pk},
		}
		got, err := decodeCursor(encodeCursor(key, "0123abcd"))
		want := map[string]string{attrPK: pk, attrSK: sk, attrGSI1PK: sk + pk, cursorList: "0123abcd"}
		if err != nil || !maps.Equal(got, want) && validUTF8(pk, sk) {
			t.Fatalf("round trip of %v: %v %v", want, got, err)
		}
	})
}

func validUTF8(ss ...string) bool {
	for _, s := range ss {
		for _, r := range s {
			if r == '\uFFFD' {
				return false
			}
		}
	}
	return true
}
