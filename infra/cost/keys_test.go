package cost

import (
	"encoding/json"
	"flag"
	"maps"
	"math"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// access is one item read or written by a request: the partition it
// lands on (the table's pk, or "gsi1:" and the index's partition for a
// query of the index) and its request units.
type access struct {
	write bool
	part  string
	units float64
}

// accesses lists the partitions a request touches, from its parameters:
// the key of every item read or written, the key condition of a query.
// A write's propagation to gsi1 is counted where the request names the
// item's gsi1pk (a put); an update's is not (the item's own gsi1pk is not
// in the request).
func accesses(params any) []access {
	var out []access
	read := func(k map[string]types.AttributeValue, consistent *bool) {
		out = append(out, access{part: attr(k, "pk"), units: half(consistent)})
	}
	write := func(item map[string]types.AttributeValue, units float64) {
		out = append(out, access{write: true, part: attr(item, "pk"), units: units})
		if g := attr(item, "gsi1pk"); g != "" {
			out = append(out, access{write: true, part: "gsi1:" + g, units: units})
		}
	}
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		read(in.Key, in.ConsistentRead)
	case *dynamodb.QueryInput:
		part := queryPartition(aws.ToString(in.KeyConditionExpression), in.ExpressionAttributeNames, in.ExpressionAttributeValues)
		if in.IndexName != nil {
			part = aws.ToString(in.IndexName) + ":" + part
		}
		out = append(out, access{part: part, units: half(in.ConsistentRead)})
	case *dynamodb.BatchGetItemInput:
		for _, ka := range in.RequestItems {
			for _, k := range ka.Keys {
				read(k, ka.ConsistentRead)
			}
		}
	case *dynamodb.TransactGetItemsInput:
		for _, it := range in.TransactItems {
			if it.Get != nil {
				out = append(out, access{part: attr(it.Get.Key, "pk"), units: 2})
			}
		}
	case *dynamodb.PutItemInput:
		write(in.Item, 1)
	case *dynamodb.UpdateItemInput:
		write(in.Key, 1)
	case *dynamodb.DeleteItemInput:
		write(in.Key, 1)
	case *dynamodb.BatchWriteItemInput:
		for _, rs := range in.RequestItems {
			for _, r := range rs {
				switch {
				case r.PutRequest != nil:
					write(r.PutRequest.Item, 1)
				case r.DeleteRequest != nil:
					write(r.DeleteRequest.Key, 1)
				}
			}
		}
	case *dynamodb.TransactWriteItemsInput:
		for _, it := range in.TransactItems {
			switch {
			case it.Put != nil:
				write(it.Put.Item, 2)
			case it.Update != nil:
				write(it.Update.Key, 2)
			case it.Delete != nil:
				write(it.Delete.Key, 2)
			case it.ConditionCheck != nil:
				// A condition check is billed as a read of its item, in
				// the transaction: counted with the writes' units as
				// DynamoDB does (a write unit per check).
				write(it.ConditionCheck.Key, 2)
			}
		}
	}
	return out
}

func attr(m map[string]types.AttributeValue, name string) string {
	if s, ok := m[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

var keyEquals = regexp.MustCompile(`(#?\w+) = (:\w+)`)

// queryPartition is the value a key condition gives pk or gsi1pk.
func queryPartition(cond string, names map[string]string, values map[string]types.AttributeValue) string {
	for _, m := range keyEquals.FindAllStringSubmatch(cond, -1) {
		name := m[1]
		if n, ok := names[name]; ok {
			name = n
		}
		if name == "pk" || name == "gsi1pk" {
			if s, ok := values[m[2]].(*types.AttributeValueMemberS); ok {
				return s.Value
			}
		}
	}
	return "?"
}

// keyShape replaces the values in a partition key that belong to one
// message, recipient or second by placeholders, so the keys of N messages
// fold into the shapes of one: what the throughput simulation
// (internal/sendlimit) multiplies by the send rate. The rig's organisation,
// phone number and webhook are named as such (shared by every message of
// the organisation); a webhook delivery's or event sample's shard is
// {shard} (shared by the items that hash to it).
func keyShape(part, org, webhook string) string {
	part = strings.ReplaceAll(part, org, "{org}")
	part = strings.ReplaceAll(part, phoneID, "{phone}")
	if webhook != "" {
		part = strings.ReplaceAll(part, webhook, "{webhook}")
	}
	segs := strings.Split(part, "#")
	for i := 1; i < len(segs); i++ {
		if strings.HasPrefix(segs[i], "{") || !idLike(segs[i]) {
			continue
		}
		name := strings.ToLower(strings.TrimPrefix(segs[i-1], "gsi1:"))
		if name == "{webhook}" || i >= 2 && segs[i-2] == "EVENTS" {
			name = "shard" // a delivery's or an event sample's shard (store.DeliveryShards, EventSampleShards)
		} else if strings.HasPrefix(name, "{") {
			name = "value" // a second value in a row (a recipient after {phone}, a second)
		}
		segs[i] = "{" + name + "}"
	}
	return strings.Join(segs, "#")
}

// idLike says whether a key segment is a value (an id, a wamid, a phone,
// a second: they all hold digits) rather than a word of the key's shape
// (ORG, MSG, org in LIMIT#org#, an event's name).
func idLike(seg string) bool {
	return strings.ContainsAny(seg, "0123456789")
}

// keyProfilePath is the measured keys per message the throughput
// simulation reads.
const keyProfilePath = "../../internal/sendlimit/testdata/keys-per-message.json"

var updateKeys = flag.Bool("update-keys", false, "rewrite "+keyProfilePath+" from this run")

// keyProfile is, per step of a message's life (the function that makes
// the requests), the request units each partition key shape takes per
// message sent: reads and writes.
type keyProfile struct {
	Note          string              `json:"note"`
	Messages      int                 `json:"messages"`
	NewContacts   map[string]stepKeys `json:"new_contacts"`
	KnownContacts map[string]stepKeys `json:"known_contacts"`
}

type stepKeys struct {
	Reads  map[string]float64 `json:"reads"`
	Writes map[string]float64 `json:"writes"`
}

func profileOf(steps map[string]counts, n int) map[string]stepKeys {
	out := map[string]stepKeys{}
	for name, c := range steps {
		sk := stepKeys{Reads: map[string]float64{}, Writes: map[string]float64{}}
		for k, v := range c {
			v = math.Round(v/float64(n)*1000) / 1000
			switch {
			case strings.HasPrefix(k, "key:read:"):
				sk.Reads[strings.TrimPrefix(k, "key:read:")] = v
			case strings.HasPrefix(k, "key:write:"):
				sk.Writes[strings.TrimPrefix(k, "key:write:")] = v
			}
		}
		if len(sk.Reads)+len(sk.Writes) > 0 {
			out[name] = sk
		}
	}
	return out
}

// checkKeyProfile holds the committed profile to this run's: the
// simulation models what the store really does. -update-keys rewrites it.
func checkKeyProfile(t *testing.T, p keyProfile) {
	t.Helper()
	p.Note = "Request units per message sent, by step and partition key shape, measured by " +
		"go test -count=1 -run TestRequestsPerMessage ./infra/cost/ -update-keys; read by the throughput simulation."
	got, err := json.MarshalIndent(p, "", "  ")
	require.NoError(t, err)
	got = append(got, '\n')
	if *updateKeys {
		require.NoError(t, os.WriteFile(keyProfilePath, got, 0o644))
	}
	b, err := os.ReadFile(keyProfilePath)
	require.NoError(t, err)
	var want keyProfile
	require.NoError(t, json.Unmarshal(b, &want))
	// The same keys, each within a unit of its committed value: the
	// sender's account read (kept a second per invocation) and the /v1
	// buckets vary with the run's pace; a key added, gone or moved by a
	// write or more is a change of the store.
	for _, sc := range []struct {
		name      string
		got, want map[string]stepKeys
	}{{"new contacts", p.NewContacts, want.NewContacts}, {"known contacts", p.KnownContacts, want.KnownContacts}} {
		require.Equal(t, slices.Sorted(maps.Keys(sc.want)), slices.Sorted(maps.Keys(sc.got)), "%s: steps", sc.name)
		for step, g := range sc.got {
			w := sc.want[step]
			for _, kind := range []struct {
				name      string
				got, want map[string]float64
			}{{"reads", g.Reads, w.Reads}, {"writes", g.Writes, w.Writes}} {
				require.Equal(t, slices.Sorted(maps.Keys(kind.want)), slices.Sorted(maps.Keys(kind.got)), "%s, %s, %s: the store's keys changed; rerun with -update-keys, then the simulation", sc.name, step, kind.name)
				for shape, v := range kind.got {
					require.InDelta(t, kind.want[shape], v, 1, "%s, %s, %s of %s: rerun with -update-keys, then the simulation", sc.name, step, kind.name, shape)
				}
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.KnownContacts)) {
		t.Logf("keys per message to a known contact, %s: reads %v writes %v", name, p.KnownContacts[name].Reads, p.KnownContacts[name].Writes)
	}
}
