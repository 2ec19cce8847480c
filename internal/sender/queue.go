package sender

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/sendlimit"
	"github.com/pytake/pytake/internal/store"
)

// Enqueuer puts accepted messages on the outbound FIFO queues: the
// transactional queue, or the bulk queue for a bulk message (a campaign's).
// Two queues, two lanes: a campaign's thousands of queued messages never
// stand in front of an order confirmation, whatever the queue's order, and
// the sender's event source mappings give each lane its own concurrency.
// It is the one place that routes a message to its lane.
//
// With Admission set, a non-bulk message goes to the transactional queue
// only within its organisation's share of it (sendlimit.Admission); over
// it, the message overflows to the bulk queue, marked in its job so the
// sender paces it as bulk. Routes keeps each contact's lane (written only
// when it changes, or for an overflow; store.Store.RouteOutbound): when a
// contact's message goes to the other lane than its previous one, the job
// names the previous one (Job.After) and the sender holds it until that
// one is sent, so a recipient's messages keep their order across the
// lanes.
type Enqueuer struct {
	Queue     *queue.Queue
	Bulk      *queue.Queue
	Admission *sendlimit.Admission
	Routes    Router
	Log       *slog.Logger
}

// Router records the lane of a contact's non-bulk message
// (store.Store.RouteOutbound).
type Router interface {
	RouteOutbound(ctx context.Context, org, contactID, msgID string, bulk bool) (store.Route, error)
}

// NewEnqueuer returns the Enqueuer of the two queues at these URLs
// (OUTBOUND_QUEUE_URL and OUTBOUND_BULK_QUEUE_URL).
func NewEnqueuer(api queue.API, transactionalURL, bulkURL string) Enqueuer {
	return Enqueuer{Queue: queue.New(api, transactionalURL, "outbound"), Bulk: queue.New(api, bulkURL, "outbound bulk")}
}

// Expect tells the admission control how many non-bulk messages of an
// admission share (store.OutboxJob.AdmitKey) the batch being relayed
// holds (outbox.Expecter): it leases that many tokens in one write.
func (e Enqueuer) Expect(share string, n int) {
	if e.Admission != nil {
		e.Admission.Expect(share, n)
	}
}

// Enqueue queues one message. The message group is the organisation and
// recipient (a recipient's messages go out in the order accepted; other
// recipients are not held up), and the deduplication id is the message id
// (a repeated enqueue within SQS's five minutes is dropped; later ones find
// the message already claimed or sent). A recipient's bulk (campaign) and
// transactional messages are in different queues, so one does not wait
// for the other; a non-bulk message that overflowed to the bulk queue does
// (see Enqueuer).
func (e Enqueuer) Enqueue(ctx context.Context, org, contactID, messageID string, bulk bool) error {
	return e.EnqueueJob(ctx, store.OutboxJob{OrgID: org, ContactID: contactID, MessageID: messageID, Bulk: bulk})
}

// EnqueueJob is Enqueue of an outbox job (outbox.JobEnqueuer): a test
// key's message is admitted under its organisation's test share.
func (e Enqueuer) EnqueueJob(ctx context.Context, j store.OutboxJob) error {
	q, m, err := e.lane(ctx, j, e.admit(ctx, j))
	if err != nil {
		return err
	}
	return q.Send(ctx, m)
}

// EnqueueJobs queues jobs as EnqueueJob does, together
// (outbox.BatchEnqueuer): admitted in order (after the batch's lease, from
// memory), their routes read at once (each contact's is a call of its
// own), then each queue's messages in requests of up to 10, every request
// at once. It answers each job's error, nil for the queued: a request or
// an entry that failed fails only its jobs. Jobs of one contact (one
// message group) in one call are queued one after the other instead, each
// only if the one before it was, so a contact's messages keep their order.
func (e Enqueuer) EnqueueJobs(ctx context.Context, jobs ...store.OutboxJob) []error {
	errs := make([]error, len(jobs))
	if !distinctContacts(jobs) {
		for i, j := range jobs {
			if errs[i] = e.EnqueueJob(ctx, j); errs[i] != nil {
				for k := i + 1; k < len(jobs); k++ {
					errs[k] = fmt.Errorf("sender: message %s not queued: an earlier one of the call was not: %w", jobs[k].MessageID, errs[i])
				}
				break
			}
		}
		return errs
	}
	overflow := make([]bool, len(jobs))
	for i, j := range jobs {
		overflow[i] = e.admit(ctx, j)
	}
	queues := make([]*queue.Queue, len(jobs))
	msgs := make([]queue.Message, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			queues[i], msgs[i], errs[i] = e.lane(ctx, j, overflow[i])
		}()
	}
	wg.Wait()
	// Each queue's jobs, gathered before either queue's answers come in.
	lanes := []*queue.Queue{e.Queue, e.Bulk}
	idx := make([][]int, len(lanes))
	for i := range jobs {
		for l, q := range lanes {
			if errs[i] == nil && queues[i] == q {
				idx[l] = append(idx[l], i)
				break
			}
		}
	}
	for l, q := range lanes {
		if len(idx[l]) == 0 {
			continue
		}
		// Each request of the lane at once: the jobs are of distinct
		// contacts (message groups), so no order holds between requests.
		for from := 0; from < len(idx[l]); from += queue.MaxBatch {
			part := idx[l][from:min(from+queue.MaxBatch, len(idx[l]))]
			batch := make([]queue.Message, len(part))
			for n, i := range part {
				batch[n] = msgs[i]
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n, err := range q.SendEach(ctx, batch...) {
					errs[part[n]] = err
				}
			}()
		}
	}
	wg.Wait()
	return errs
}

func distinctContacts(jobs []store.OutboxJob) bool {
	seen := make(map[string]bool, len(jobs))
	for _, j := range jobs {
		g := j.OrgID + ":" + j.ContactID
		if seen[g] {
			return false
		}
		seen[g] = true
	}
	return true
}

// admit says whether a non-bulk job overflows its organisation's share of
// the transactional lane (Admission); a bulk job, or without Admission,
// never.
func (e Enqueuer) admit(ctx context.Context, j store.OutboxJob) (overflow bool) {
	if j.Bulk || e.Admission == nil {
		return false
	}
	ok, err := e.Admission.Admit(ctx, j.AdmitKey())
	if err != nil && e.Log != nil {
		e.Log.WarnContext(ctx, "admission bucket not read; queued as transactional", "org_id", j.OrgID, "error", err.Error())
	}
	return !ok
}

// lane chooses an admitted job's queue (the contact's route) and builds
// its message: the message group is the organisation and recipient, the
// deduplication id the message id.
func (e Enqueuer) lane(ctx context.Context, j store.OutboxJob, overflow bool) (*queue.Queue, queue.Message, error) {
	org, contactID, messageID, bulk := j.OrgID, j.ContactID, j.MessageID, j.Bulk
	job := Job{OrgID: org, MessageID: messageID, Bulk: overflow}
	if !bulk && e.Routes != nil {
		r, err := e.Routes.RouteOutbound(ctx, org, contactID, messageID, job.Bulk)
		if err != nil {
			return nil, queue.Message{}, fmt.Errorf("sender: route message %s: %w", messageID, err)
		}
		job.Bulk, job.After = r.Bulk, r.After
	}
	q := e.Queue
	if bulk || job.Bulk {
		if e.Bulk == nil {
			return nil, queue.Message{}, errors.New("sender: no bulk outbound queue to enqueue a bulk message on")
		}
		q = e.Bulk
	}
	return q, queue.Message{Body: job, Group: org + ":" + contactID, DedupID: messageID}, nil
}
