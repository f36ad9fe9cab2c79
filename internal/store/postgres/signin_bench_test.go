package postgres_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"unid/internal/account"
	"unid/internal/store"
	"unid/internal/store/postgres"
	"unid/internal/testenv"
)

// signInPool is how many identifiers of each kind the sign-in benchmark
// draws from the seeded database: enough that 10,000 lookups rarely ask
// for one account twice on a large database.
const signInPool = 20_000

// identifiers are what citizens type to sign in, taken from the seeded
// accounts (login names as they are, phones and verified ID numbers
// opened with the key file), and some that no account has.
type identifiers struct {
	accounts *account.Service
	hits     map[string][]string // by kind: login_name, phone, id_number
	misses   map[string][]string
}

var signIn struct {
	once sync.Once
	d    identifiers
	err  error
}

// BenchmarkSignInFind looks citizens up as sign-in does, through the
// account service's Find (format recognised, blind index computed,
// one query), one lookup at a time, on the database tools/seed filled
// (UNID_BENCH_POSTGRES_URL, UNID_BENCH_KEY_FILE). Each kind of identifier
// reports its mean and 99th percentile; run 10,000 lookups or more
// (-benchtime 10000x) for a p99 worth reading. The aim: p99 at 10 million
// accounts within twice that at 10 thousand.
func BenchmarkSignInFind(b *testing.B) {
	url := testenv.Require(b, consoleURLVar)
	keyFile := testenv.Require(b, consoleKeyVar)
	signIn.once.Do(func() { signIn.d, signIn.err = sampleIdentifiers(context.Background(), url, keyFile) })
	if signIn.err != nil {
		b.Fatalf("seeded database: %v", signIn.err)
	}
	d := signIn.d
	for _, kind := range []string{"login_name", "phone", "id_number"} {
		b.Run(kind, func(b *testing.B) { benchFind(b, d.accounts, d.hits[kind], true) })
	}
	for _, kind := range []string{"login_name", "phone", "id_number"} {
		b.Run(kind+"_miss", func(b *testing.B) { benchFind(b, d.accounts, d.misses[kind], false) })
	}
}

// benchFind finds each of idents in turn, and fails if one is found or
// not found against want.
func benchFind(b *testing.B, accounts *account.Service, idents []string, want bool) {
	ctx := context.Background()
	took := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		ident := idents[i%len(idents)]
		start := time.Now()
		_, found, err := accounts.Find(ctx, ident)
		took = append(took, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if found != want {
			b.Fatalf("Find of a seeded identifier (%d of the sample): found %v, want %v", i%len(idents), found, want)
		}
	}
	b.StopTimer()
	slices.Sort(took)
	var sum time.Duration
	for _, t := range took {
		sum += t
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(sum)/float64(len(took)), "mean-ms")
	b.ReportMetric(ms(took[len(took)/2]), "p50-ms")
	b.ReportMetric(ms(took[int(math.Ceil(0.99*float64(len(took))))-1]), "p99-ms")
	b.ReportMetric(ms(took[len(took)-1]), "max-ms")
}

// sampleIdentifiers reads identifiers of accounts spread over the whole
// table, in random order. Closed accounts are left out: sign-in finds
// nobody by them. ID numbers are those held verified, the only ones Find
// looks for.
func sampleIdentifiers(ctx context.Context, url, keyFile string) (identifiers, error) {
	d := identifiers{hits: map[string][]string{}, misses: map[string][]string{}}
	prot, err := keyFileProtector(keyFile)
	if err != nil {
		return d, err
	}
	s, err := postgres.Open(ctx, url, 0)
	if err != nil {
		return d, err
	}
	d.accounts = account.NewService(account.ServiceDeps{Store: s, Protector: prot})
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return d, err
	}
	defer conn.Close(ctx)

	var rows float64
	if err := conn.QueryRow(ctx, `SELECT reltuples FROM pg_class WHERE oid = 'users'::regclass`).Scan(&rows); err != nil {
		return d, err
	}
	// Three times the pool, since some accounts lack a phone or a
	// verified ID number.
	percent := min(100, 100*3*signInPool/max(rows, 1))
	r, err := conn.Query(ctx, `SELECT login_name, phone_cipher, CASE WHEN realname_level >= 1 THEN id_number_cipher END
		FROM users TABLESAMPLE SYSTEM ($1) WHERE status <> $2`, percent, store.UserClosed)
	if err != nil {
		return d, err
	}
	for r.Next() {
		var login string
		var phone, idNumber []byte
		if err := r.Scan(&login, &phone, &idNumber); err != nil {
			return d, err
		}
		d.hits["login_name"] = append(d.hits["login_name"], login)
		for field, sealed := range map[string][]byte{account.FieldPhone: phone, account.FieldIDNumber: idNumber} {
			if len(sealed) == 0 {
				continue
			}
			v, err := prot.Open(field, store.Sealed{Cipher: sealed})
			if err != nil {
				return d, fmt.Errorf("a seeded %s does not open with %s: %w", field, keyFile, err)
			}
			d.hits[field] = append(d.hits[field], v)
		}
	}
	if err := r.Err(); err != nil {
		return d, err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for kind, v := range d.hits {
		if len(v) == 0 {
			return d, fmt.Errorf("no %s in the sample: seed the database with tools/seed", kind)
		}
		rng.Shuffle(len(v), func(i, j int) { v[i], v[j] = v[j], v[i] })
		d.hits[kind] = v[:min(len(v), signInPool)]
	}
	// Misses of the right format that the seed never makes: login names
	// without the digits every seeded one ends in, a prefix it gives no
	// phone, a region it gives no ID number.
	for range signInPool {
		d.misses["login_name"] = append(d.misses["login_name"], "nobody"+randLetters(rng, 8))
		d.misses["phone"] = append(d.misses["phone"], fmt.Sprintf("170%08d", rng.IntN(100_000_000)))
		first17 := "440305" + time.Date(1950+rng.IntN(55), 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(365)).Format("20060102") +
			fmt.Sprintf("%03d", rng.IntN(1000))
		d.misses["id_number"] = append(d.misses["id_number"], withCheckChar(first17))
	}
	return d, nil
}

// keyFileProtector opens personal data with the key file the seed sealed
// it with.
func keyFileProtector(keyFile string) (*account.Protector, error) {
	keys, err := account.LoadKeyFile(keyFile)
	if err != nil {
		return nil, err
	}
	return account.NewProtector(keys)
}

func randLetters(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + r.IntN(26))
	}
	return string(b)
}

// withCheckChar completes the first 17 digits of an ID number with the
// check character that makes sign-in recognise it as one.
func withCheckChar(first17 string) string {
	for _, c := range "0123456789X" {
		if kind, _ := account.Recognize(first17 + string(c)); kind == account.KindIDNumber {
			return first17 + string(c)
		}
	}
	panic("no check character completes " + first17)
}
