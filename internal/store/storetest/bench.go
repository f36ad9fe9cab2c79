package storetest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"unid/internal/store"
)

// BenchUsersVar names the environment variable that sets how many accounts
// the benchmarks seed.
const BenchUsersVar = "UNID_BENCH_USERS"

// BenchUsers returns UNID_BENCH_USERS, or 1,000,000.
func BenchUsers(tb testing.TB) int {
	tb.Helper()
	v := os.Getenv(BenchUsersVar)
	if v == "" {
		return 1_000_000
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		tb.Fatalf("%s=%q is not a positive number", BenchUsersVar, v)
	}
	return n
}

// BulkStore is a store that can seed many users at once; the SQL backends
// are.
type BulkStore interface {
	store.Users
	BulkCreateUsers(ctx context.Context, users []store.User) error
}

// benchPasswordHash is the one precomputed argon2id hash every benchmark
// account shares; hashing a million passwords would measure argon2, not the
// store.
const benchPasswordHash = "$argon2id$v=19$m=65536,t=3,p=4$3q2+7wAAAAAAAAAAAAAAAA$O6Zsk0xNRfyMDmgO9VIn3WRdjHs2b6WrNkVXDq2lx1o"

// benchCipher stands in for the ciphertext of one field: its size matters to
// the store, its content does not.
var benchCipher = make([]byte, 48)

// benchIndex derives the 32-byte blind index of one field of benchmark user
// i in namespace ns: random-looking, unique, and recomputable, so that a
// seeded database can be reused and queried without keeping its users.
func benchIndex(ns, field string, i int) []byte {
	h := sha256.New()
	h.Write([]byte(ns))
	h.Write([]byte{0})
	h.Write([]byte(field))
	binary.Write(h, binary.BigEndian, int64(i))
	return h.Sum(nil)
}

// benchUser returns account i of namespace ns.
func benchUser(ns string, i int) store.User {
	id := base64.RawURLEncoding.EncodeToString(benchIndex(ns, "id", i)[:16])
	t := base.Add(time.Duration(i) * time.Millisecond)
	return store.User{
		ID:            id,
		LoginName:     "Bench" + id,
		LoginNameKey:  "bench" + id,
		PasswordHash:  benchPasswordHash,
		Phone:         store.Sealed{Cipher: benchCipher, Index: benchIndex(ns, "phone", i)},
		IDNumber:      store.Sealed{Cipher: benchCipher, Index: benchIndex(ns, "id_number", i)},
		Email:         store.Sealed{Cipher: benchCipher, Index: benchIndex(ns, "email", i)},
		RealName:      store.Sealed{Cipher: benchCipher[:24]},
		RealnameLevel: i % 4,
		Status:        store.UserActive,
		CreatedAt:     t,
		UpdatedAt:     t,
	}
}

// BenchUser returns the i-th account of the seeded benchmark database.
func BenchUser(i int) store.User { return benchUser("seed", i) }

// Seeded says what Seed did.
type Seeded struct {
	Users    int           // accounts in the store afterwards
	Inserted int           // accounts this call inserted; 0 when reused
	Elapsed  time.Duration // time spent inserting
}

// Rate is the insert rate in accounts per second, or 0 when nothing was
// inserted.
func (s Seeded) Rate() float64 {
	if s.Inserted == 0 || s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Inserted) / s.Elapsed.Seconds()
}

// seedChunk is how many accounts one BulkCreateUsers call (one transaction)
// inserts.
const seedChunk = 100_000

// Seed makes s hold benchmark accounts 0..n-1, inserting only those missing:
// chunks commit in order, so a store left by an interrupted run holds a
// prefix of them and seeding continues where it stopped. A store holding
// anything else is refused.
func Seed(ctx context.Context, s BulkStore, n int, logf func(format string, args ...any)) (Seeded, error) {
	have64, err := s.CountUsers(ctx)
	if err != nil {
		return Seeded{}, err
	}
	have := int(have64)
	if have > n {
		return Seeded{}, fmt.Errorf("storetest: store holds %d accounts, want at most %d", have, n)
	}
	if have > 0 {
		if _, err := s.GetUserByPhone(ctx, BenchUser(have-1).Phone.Index); err != nil {
			return Seeded{}, fmt.Errorf("storetest: store holds %d accounts that are not benchmark accounts 0..%d: %w", have, have-1, err)
		}
	}
	if have == n {
		logf("reusing %d seeded accounts", n)
		return Seeded{Users: n}, nil
	}
	logf("seeding accounts %d..%d", have, n-1)
	start := time.Now()
	users := make([]store.User, 0, seedChunk)
	for i := have; i < n; i += seedChunk {
		users = users[:0]
		for j := i; j < min(i+seedChunk, n); j++ {
			users = append(users, BenchUser(j))
		}
		if err := s.BulkCreateUsers(ctx, users); err != nil {
			return Seeded{}, fmt.Errorf("storetest: seed accounts from %d: %w", i, err)
		}
	}
	sd := Seeded{Users: n, Inserted: n - have, Elapsed: time.Since(start)}
	logf("seeded %d accounts in %v (%.0f inserts/s)", sd.Inserted, sd.Elapsed.Round(time.Millisecond), sd.Rate())
	return sd, nil
}

// lookupKeys returns phone indexes of random seeded accounts.
func lookupKeys(n int) [][]byte {
	keys := make([][]byte, 4096)
	for i := range keys {
		keys[i] = BenchUser(rand.IntN(n)).Phone.Index
	}
	return keys
}

// reportSeed reports the insert rate of the seeding this process did.
func reportSeed(b *testing.B, seed Seeded) {
	if r := seed.Rate(); r > 0 {
		b.ReportMetric(r, "inserts/s")
		b.ReportMetric(seed.Elapsed.Seconds(), "seed-s")
	}
}

// BenchLookup measures GetUserByPhone, the blind-index lookup of sign-in by
// phone number, of random accounts of a store seeded by Seed.
func BenchLookup(b *testing.B, s store.Users, seed Seeded) {
	ctx := context.Background()
	keys := lookupKeys(seed.Users)
	i := 0
	for b.Loop() {
		if _, err := s.GetUserByPhone(ctx, keys[i%len(keys)]); err != nil {
			b.Fatalf("GetUserByPhone: %v", err)
		}
		i++
	}
	reportSeed(b, seed) // after the loop: b.Loop resets reported metrics
}

// BenchLookupParallel is BenchLookup from GOMAXPROCS goroutines (or more,
// with -cpu or b.SetParallelism) at once.
func BenchLookupParallel(b *testing.B, s store.Users, seed Seeded) {
	ctx := context.Background()
	keys := lookupKeys(seed.Users)
	defer reportSeed(b, seed)
	b.RunParallel(func(pb *testing.PB) {
		i := rand.IntN(len(keys))
		for pb.Next() {
			if _, err := s.GetUserByPhone(ctx, keys[i%len(keys)]); err != nil {
				b.Errorf("GetUserByPhone: %v", err)
				return
			}
			i++
		}
	})
}

// BenchBulkCreate measures BulkCreateUsers into an empty store from
// newStore, in transactions of seedChunk accounts; ns/op is per account.
func BenchBulkCreate(b *testing.B, newStore func(b *testing.B) BulkStore) {
	ctx := context.Background()
	s := newStore(b)
	ns := strconv.FormatUint(rand.Uint64(), 36)
	users := make([]store.User, 0, seedChunk)
	b.ResetTimer()
	for i := 0; i < b.N; i += seedChunk {
		b.StopTimer()
		users = users[:0]
		for j := i; j < min(i+seedChunk, b.N); j++ {
			users = append(users, benchUser(ns, j))
		}
		b.StartTimer()
		if err := s.BulkCreateUsers(ctx, users); err != nil {
			b.Fatalf("BulkCreateUsers: %v", err)
		}
	}
	b.StopTimer()
	if e := b.Elapsed(); e > 0 {
		b.ReportMetric(float64(b.N)/e.Seconds(), "inserts/s")
	}
}

// ReviewBulkStore is a store that can seed many review items at once; the
// SQL backends are.
type ReviewBulkStore interface {
	store.Realname
	BulkCreateReviewItems(ctx context.Context, items []store.ReviewItem) error
}

// ReviewQueueItems is how many pending items BenchReviewQueue seeds: the
// 100,000 of the target.
const ReviewQueueItems = 100_000

// reviewPageSize is the page the console shows.
const reviewPageSize = 50

// SeedReviewQueue inserts n pending review items into an empty store, of
// two kinds, oldest first a millisecond apart, with some decided items
// among them that a page of pending ones skips.
func SeedReviewQueue(ctx context.Context, s ReviewBulkStore, n int) ([]store.ReviewItem, error) {
	items := make([]store.ReviewItem, 0, n+n/10)
	data := make([]byte, 120)
	for i := range n + n/10 {
		it := store.ReviewItem{
			ID: fmt.Sprintf("item%08d", i), Kind: "realname.counter", State: "pending", Reference: "R" + strconv.Itoa(i%100000),
			UserID: fmt.Sprintf("user%08d", i), Subject: "*三 1101**********002X", Data: data, CreatedAt: base.Add(time.Duration(i) * time.Millisecond),
		}
		if i%3 == 0 {
			it.Kind = "realname.appeal"
		}
		if i%11 == 10 {
			it.State, it.DecidedAt, it.DecidedBy, it.Reason = "approved", it.CreatedAt.Add(time.Hour), "ann", "ok"
		}
		items = append(items, it)
	}
	for i := 0; i < len(items); i += seedChunk {
		if err := s.BulkCreateReviewItems(ctx, items[i:min(i+seedChunk, len(items))]); err != nil {
			return nil, err
		}
	}
	return items, nil
}

// BenchReviewQueue measures one page of the pending queue, at a random
// depth of the seeded items (keyset: as fast deep as at the start), for
// one kind and for both kinds; it reports ms/page.
func BenchReviewQueue(b *testing.B, s ReviewBulkStore) {
	ctx := context.Background()
	start := time.Now()
	items, err := SeedReviewQueue(ctx, s, ReviewQueueItems)
	if err != nil {
		b.Fatalf("seed: %v", err)
	}
	b.Logf("seeded %d review items in %v", len(items), time.Since(start).Round(time.Millisecond))
	// As the database's own statistics job would, before the first page.
	if db, ok := s.(interface{ WriteDB() *sql.DB }); ok {
		if _, err := db.WriteDB().ExecContext(ctx, `ANALYZE review_items`); err != nil {
			b.Fatalf("analyze: %v", err)
		}
	}
	for _, kinds := range [][]string{{"realname.counter", "realname.appeal"}, {"realname.appeal"}} {
		b.Run(fmt.Sprintf("kinds=%d", len(kinds)), func(b *testing.B) {
			var worst time.Duration
			for b.Loop() {
				after := items[rand.IntN(len(items)-reviewPageSize*20)]
				t0 := time.Now()
				page, err := s.ListReviewItems(ctx, store.ReviewPage{Kinds: kinds, State: "pending",
					AfterTime: after.CreatedAt, AfterID: after.ID, Limit: reviewPageSize})
				worst = max(worst, time.Since(t0))
				if err != nil || len(page) != reviewPageSize {
					b.Fatalf("page after %s: %d items, %v", after.ID, len(page), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
			b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
		})
	}
}
