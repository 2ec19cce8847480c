package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Bucket is a token bucket kept in one DynamoDB item, shared by every
// container: Rate tokens a second, at most Burst at once.
type Bucket struct {
	Key   string // e.g. "org#<org>" or "key#<key id>"
	Rate  int    // tokens per second, > 0 (unless Every is set)
	Burst int    // capacity, > 0
	// Every, when set, is the time one token takes to come back, for a
	// rate under one a second (Meta's pair limit: one message every 6 s).
	Every time.Duration
	// IdleFirst: the bucket is mostly idle (a recipient rarely messaged
	// twice within its interval), so the write for an idle bucket is tried
	// first: one write in the common case instead of two.
	IdleFirst bool
}

// Take is the outcome of taking one token.
type Take struct {
	Allowed bool
	// Remaining tokens after this request (0 when refused).
	Remaining int
	// Full is how long until the bucket is full again.
	Full time.Duration
	// RetryAfter is how long until a token is available (refused only).
	RetryAfter time.Duration
	// TAT is the bucket's theoretical arrival time (unix microseconds) as
	// this call left or found it: a lower bound of its value from now on,
	// which a caller may use to refuse without asking again.
	TAT int64
	// Tokens is how many tokens were taken (0 when refused).
	Tokens int
}

// interval is the time one token takes to come back, in microseconds.
func (b Bucket) interval() int64 {
	if b.Every > 0 {
		return max(int64(b.Every/time.Microsecond), 1)
	}
	return (int64(time.Second/time.Microsecond) + int64(b.Rate) - 1) / int64(b.Rate)
}

// Decide says what the bucket answers at now (unix µs) when its
// theoretical arrival time is tat, without changing anything: the GCRA form
// of a token bucket, a lease of one token. A request is allowed when
// max(tat, now) + T stays within now + Burst*T; it then moves tat there.
func (b Bucket) Decide(tat, now int64) Take {
	return b.Lease(tat, now, 1)
}

// Lease says what TakeTokens answers at now (unix µs) for n tokens when
// the bucket's theoretical arrival time is tat, without changing anything:
// as many as the bucket holds, up to n (at most Burst), tat moved by that
// many intervals.
func (b Bucket) Lease(tat, now int64, n int) Take {
	t := b.interval()
	limit := now + int64(b.Burst)*t
	base := max(tat, now)
	have := min(int((limit-base)/t), n, b.Burst)
	if have <= 0 {
		return Take{TAT: tat, Full: time.Duration(tat-now) * time.Microsecond, RetryAfter: time.Duration(base+t-limit) * time.Microsecond}
	}
	next := base + int64(have)*t
	return Take{Allowed: true, Tokens: have, TAT: next, Remaining: int((limit - next) / t), Full: time.Duration(next-now) * time.Microsecond}
}

// TakeToken takes one token from a bucket: TakeTokens(ctx, b, 1). One
// conditional UpdateItem in the common case (the bucket in use; or idle,
// with IdleFirst), two when it was in the other state or another container
// moved it between the two. The conditions make it exact across any number
// of concurrent containers: no read-modify-write, no lost update.
func (s *Store) TakeToken(ctx context.Context, b Bucket) (Take, error) {
	return s.TakeTokens(ctx, b, 1)
}

func tatOf(item map[string]types.AttributeValue) (int64, error) {
	var v struct {
		TAT int64 `dynamodbav:"tat"`
	}
	if err := attributevalue.UnmarshalMap(item, &v); err != nil {
		return 0, fmt.Errorf("store: decode bucket: %w", err)
	}
	return v.TAT, nil
}

// TakeTokens takes up to n tokens (a lease, 1 ≤ n ≤ Burst) from a bucket
// in one conditional UpdateItem when that many are there (the in-use form
// first; the idle one first with IdleFirst): as many as the
// bucket holds, up to n, all counted as taken now. When fewer than n are
// there, the refused write answers the bucket's state and a second write
// takes what it holds; refused (Tokens 0) when none. Exact across
// concurrent containers: every write is conditioned on the state it
// assumes.
func (s *Store) TakeTokens(ctx context.Context, b Bucket, n int) (Take, error) {
	if (b.Rate <= 0 && b.Every <= 0) || b.Burst <= 0 || n <= 0 {
		return Take{}, fmt.Errorf("store: bucket %s: rate, burst and tokens must be positive", b.Key)
	}
	want := min(n, b.Burst)
	k := key{limitPK(b.Key), limitSK()}
	t := b.interval()
	for attempt := 0; attempt < 4; attempt++ {
		now := s.now().UnixMicro()
		limit := now + int64(b.Burst)*t
		ttl := num(strconv.FormatInt(limit/1e6+120, 10))
		if b.IdleFirst && attempt == 0 {
			take, done, err := s.leaseIdle(ctx, b, k, want, now, ttl)
			if done || err != nil {
				return take, err
			}
			continue
		}
		in := updateInput(s.table, k, "SET tat = tat + :d, expires_at = :ttl",
			"tat >= :now AND tat <= :max", map[string]types.AttributeValue{
				":d": num(strconv.FormatInt(int64(want)*t, 10)), ":now": num(strconv.FormatInt(now, 10)),
				":max": num(strconv.FormatInt(limit-int64(want)*t, 10)), ":ttl": ttl,
			})
		in.ReturnValues = types.ReturnValueUpdatedNew
		in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
		out, err := s.db.UpdateItem(ctx, in)
		if err == nil {
			tat, err := tatOf(out.Attributes)
			if err != nil {
				return Take{}, err
			}
			return Take{Allowed: true, Tokens: want, TAT: tat, Remaining: int((limit - tat) / t),
				Full: time.Duration(tat-now) * time.Microsecond}, nil
		}
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			return Take{}, unavailable("take tokens", err)
		}
		item := ccf.Item
		if len(item) == 0 {
			// No item: a new bucket (or one expired idle), full. Only when
			// its idle write is refused too is the item there after all
			// (another container's, or an emulator that leaves the old item
			// out): read it.
			take, done, err := s.leaseIdle(ctx, b, k, want, now, ttl)
			if done || err != nil {
				return take, err
			}
			got, gerr := s.db.GetItem(ctx, getInput(s.table, k))
			if gerr != nil {
				return Take{}, unavailable("read bucket", gerr)
			}
			item = got.Item
		}
		old := int64(0)
		if len(item) > 0 {
			if old, err = tatOf(item); err != nil {
				return Take{}, err
			}
		}
		if old >= now {
			// In use: fewer than want there. Take what is, or refuse.
			have := int((limit - old) / t)
			if have <= 0 {
				return Take{TAT: old, Full: time.Duration(old-now) * time.Microsecond,
					RetryAfter: time.Duration(old+t-limit) * time.Microsecond}, nil
			}
			want = min(want, have)
			continue
		}
		// Idle (or new): the bucket is full; start from now.
		take, done, err := s.leaseIdle(ctx, b, k, want, now, ttl)
		if done || err != nil {
			return take, err
		}
		// Another container took tokens in between: look again.
	}
	return Take{}, unavailable("take tokens", errors.New("the bucket kept changing"))
}

// leaseIdle leases want tokens of an idle (or new) bucket: full, so
// counted from now. Not done: the bucket is in use.
func (s *Store) leaseIdle(ctx context.Context, b Bucket, k key, want int, now int64, ttl types.AttributeValue) (Take, bool, error) {
	next := now + int64(want)*b.interval()
	in := updateInput(s.table, k, "SET tat = :next, expires_at = :ttl, #t = :type",
		"attribute_not_exists(tat) OR tat < :now", map[string]types.AttributeValue{
			":next": num(strconv.FormatInt(next, 10)), ":now": num(strconv.FormatInt(now, 10)), ":ttl": ttl,
			":type": str(typeLimit),
		})
	in.ExpressionAttributeNames = map[string]string{"#t": attrType}
	_, err := s.db.UpdateItem(ctx, in)
	switch {
	case err == nil:
		return Take{Allowed: true, Tokens: want, TAT: next, Remaining: b.Burst - want,
			Full: time.Duration(next-now) * time.Microsecond}, true, nil
	case !isConditionFailed(err):
		return Take{}, true, unavailable("take tokens", err)
	}
	return Take{}, false, nil
}
