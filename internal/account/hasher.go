package account

import (
	"context"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"unid/internal/problem"
)

// Params are the argon2id parameters of new password hashes.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over the memory
	Threads uint8  // parallelism (lanes)
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams are the OWASP minimum for argon2id: 19 MiB, 2 passes, one
// lane, a 16-byte salt and a 32-byte hash.
func DefaultParams() Params {
	return Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Limits on argon2 parameters, both for new hashes and for stored ones: a
// stored hash with absurd parameters must not be able to stall the server.
const (
	maxArgonMemory  = 1 << 20 // KiB: 1 GiB
	maxArgonTime    = 64
	minSaltLen      = 8
	maxSaltLen      = 64
	minKeyLen       = 16
	maxKeyLen       = 128
	maxBcryptCost   = 16
	maxPBKDF2Rounds = 5_000_000
	// maxPasswordBytes bounds what is hashed at all; CheckPassword allows at
	// most 128 characters, which is at most 512 bytes.
	maxPasswordBytes = 4096
)

// withDefaults fills zero fields from DefaultParams.
func (p Params) withDefaults() Params {
	d := DefaultParams()
	if p.Memory == 0 {
		p.Memory = d.Memory
	}
	if p.Time == 0 {
		p.Time = d.Time
	}
	if p.Threads == 0 {
		p.Threads = d.Threads
	}
	if p.SaltLen == 0 {
		p.SaltLen = d.SaltLen
	}
	if p.KeyLen == 0 {
		p.KeyLen = d.KeyLen
	}
	return p
}

// Validate reports whether argon2 can run with p (zero fields count as their
// defaults) and p is within the limits this package accepts.
func (p Params) Validate() error { return p.withDefaults().check() }

// check is Validate without defaults.
func (p Params) check() error {
	switch {
	case p.Time < 1 || p.Threads < 1:
		return fmt.Errorf("account: argon2 time and threads must be at least 1")
	case p.Memory < 8*uint32(p.Threads):
		return fmt.Errorf("account: argon2 memory %d KiB is less than 8 KiB per thread", p.Memory)
	case p.Memory > maxArgonMemory:
		return fmt.Errorf("account: argon2 memory %d KiB is more than %d", p.Memory, maxArgonMemory)
	case p.Time > maxArgonTime:
		return fmt.Errorf("account: argon2 time %d is more than %d", p.Time, maxArgonTime)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("account: argon2 salt length %d is not %d–%d", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("account: argon2 key length %d is not %d–%d", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// Errors of Hash and Verify.
var (
	// ErrHashFormat is returned by Verify for a stored hash it cannot read.
	ErrHashFormat = errors.New("account: unrecognised or malformed password hash")
	// ErrPasswordTooLong is returned by Hash for a password of more than 4096
	// bytes (CheckPassword refuses such passwords long before).
	ErrPasswordTooLong = errors.New("account: password too long to hash")
)

// Hasher hashes passwords with argon2id and verifies them against argon2id
// and imported legacy hashes. A semaphore bounds how many hashes run at once,
// so that a burst of sign-ins queues instead of exhausting memory (each
// argon2 run holds Params.Memory) or starving other requests of CPU.
type Hasher struct {
	params  Params
	sem     chan struct{}
	maxWait time.Duration // Admit's bound; 0: none
	runs    atomic.Uint64 // password hashes computed: Hash, Verify, DummyVerify
	wait    atomic.Int64  // hashes waiting for a place to run
	pending atomic.Int64  // hashes of admitted requests that have not yet asked for a place
	times   hashTimes     // how long hashes have taken lately
	refused atomic.Uint64 // requests Admit refused
}

// Waiting is how many password hashes wait for a place to run now: the
// queue a burst of sign-ins builds (a metric for operators).
func (h *Hasher) Waiting() int64 { return h.wait.Load() }

// Refused is how many requests Admit has refused (a metric for operators).
func (h *Hasher) Refused() uint64 { return h.refused.Load() }

// WithMaxWait makes Admit refuse what would wait longer than d for a place
// to hash (0: never), and returns h. Call it before h is used.
func (h *Hasher) WithMaxWait(d time.Duration) *Hasher {
	h.maxWait = d
	return h
}

// expectedWait is how long a hash would wait for a place to run behind
// ahead others (those waiting, and those of requests admitted that have
// not yet asked): shared among the workers, each taking as long as hashes
// have lately (0 before the first).
func (h *Hasher) expectedWait(ahead int64) time.Duration {
	return time.Duration(ahead) * h.times.mean(time.Now()) / time.Duration(cap(h.sem))
}

// Admit is the check a request makes before anything it would spend (a
// captcha, an attempt counted against a lockout) when it is going to hash
// a password, hashes times. While the queue is longer than the maximum
// wait (WithMaxWait) it answers problem.Unavailable problem.CodeBusy, with
// the expected wait as Retry-After, so that in a burst of sign-ins beyond
// what the cores can hash those admitted are answered within about the
// wait and the others are told at once to come back, rather than all of
// them waiting until their browsers or the proxy give up. It answers the
// same whoever asks: the queue says nothing of an account.
//
// An admitted request holds its hashes' places in the count of the queue,
// carried in the returned ctx, each until a hash of the request asks for a
// place (acquire), and the rest until done, which the caller defers. So
// requests admitted together, still at their captchas and lookups, count
// for the ones after them, and a request's later hashes do not join the
// back of a queue that grew meanwhile uncounted.
//
// A ctx whose admission by h still holds as many places is admitted again
// at once, counted no further: the caller that admitted it first counted
// every hash of the request (a password change, its check of the current
// password and the hash of the new one). One that holds fewer (its
// request's done gives back all) is judged like any other.
func (h *Hasher) Admit(ctx context.Context, hashes int) (_ context.Context, done func(), err error) {
	if h.maxWait <= 0 {
		return ctx, func() {}, nil
	}
	k := int64(max(hashes, 1))
	if a, ok := ctx.Value(admissionKey{}).(*admission); ok && a.h == h && a.holds(k) {
		return ctx, func() {}, nil
	}
	// Counted first, then judged: of requests arriving in the same instant,
	// each sees the others.
	ahead := h.wait.Load() + h.pending.Add(k) - k
	if wait := h.expectedWait(ahead); wait > h.maxWait {
		h.pending.Add(-k)
		h.refused.Add(1)
		return ctx, func() {}, &problem.Problem{Kind: problem.Unavailable, Code: problem.CodeBusy, RetryAfter: wait,
			Err: fmt.Errorf("account: %d password hashes ahead, about %s", ahead, wait.Round(time.Millisecond))}
	}
	a := &admission{h: h}
	a.left.Store(k)
	return context.WithValue(ctx, admissionKey{}, a), a.leaveAll, nil
}

// An admission is a request's places in the count of the queue, from
// Admit until its hashes ask for places.
type admission struct {
	h    *Hasher
	left atomic.Int64 // places still held; none once the request is over
}

// holds reports whether a holds k places or more.
func (a *admission) holds(k int64) bool { return a.left.Load() >= k }

type admissionKey struct{}

// leaveOne gives back one place, if any is left.
func (a *admission) leaveOne() {
	for {
		n := a.left.Load()
		if n <= 0 {
			return
		}
		if a.left.CompareAndSwap(n, n-1) {
			a.h.pending.Add(-1)
			return
		}
	}
}

// leaveAll gives back the places left: the request is over.
func (a *admission) leaveAll() {
	if n := a.left.Swap(0); n > 0 {
		a.h.pending.Add(-n)
	}
}

// leaveAdmission gives back one place of the admission ctx carries, if it
// is h's.
func (h *Hasher) leaveAdmission(ctx context.Context) {
	if a, ok := ctx.Value(admissionKey{}).(*admission); ok && a.h == h {
		a.leaveOne()
	}
}

// Runs is how many password hashes h has computed, real or dummy: the
// work a sign-in pays, which the tests count instead of timing it.
func (h *Hasher) Runs() uint64 { return h.runs.Load() }

// NewHasher returns a Hasher that makes hashes with p and runs at most
// maxConcurrent hashes at once; less than 1 means GOMAXPROCS: a hash keeps
// a core busy, and more at once than there are cores only share them, so
// that every sign-in of a burst waits for more than one hash's time and
// the hashes push each other's memory out of the caches (twice the CPUs
// gave a p99 of 770–840 ms against 540–570 ms, and 2 % fewer sign-ins).
// Zero fields of p take the value of DefaultParams. NewHasher panics if p
// is invalid: check configuration with p.Validate first.
func NewHasher(p Params, maxConcurrent int) *Hasher {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	if maxConcurrent < 1 {
		maxConcurrent = runtime.GOMAXPROCS(0)
	}
	return &Hasher{params: p.withDefaults(), sem: make(chan struct{}, maxConcurrent)}
}

// Params returns the parameters of new hashes.
func (h *Hasher) Params() Params { return h.params }

// Workers is how many hashes run at once at most; each holds
// Params().Memory KiB while it runs.
func (h *Hasher) Workers() int { return cap(h.sem) }

// acquire waits for a place to run a hash, or for ctx to end; it returns
// when the place was taken, for release. The admission ctx carries ends
// here: from now on the request counts among those waiting, if it waits.
func (h *Hasher) acquire(ctx context.Context) (time.Time, error) {
	select {
	case h.sem <- struct{}{}:
		h.leaveAdmission(ctx)
		return time.Now(), nil
	default:
	}
	h.wait.Add(1)
	defer h.wait.Add(-1)
	h.leaveAdmission(ctx)
	select {
	case h.sem <- struct{}{}:
		return time.Now(), nil
	case <-ctx.Done():
		return time.Time{}, fmt.Errorf("account: waiting to hash a password: %w", context.Cause(ctx))
	}
}

// release gives the place taken at start back after one hash, and counts
// the hash's time into the mean ExpectedWait uses.
func (h *Hasher) release(start time.Time) {
	<-h.sem // first: whatever the bookkeeping does, the place is back
	h.runs.Add(1)
	now := time.Now()
	h.times.add(now, now.Sub(start))
}

// hashTimes is the mean time of the hashes of the last ten seconds, in
// one-second buckets: every hash counts the same, an imported legacy one
// (which may take seconds) as much as any, so that a steady share of them
// shows in full, while one of them among the hundreds of a busy second
// moves the mean little. Without a hash in the window it is the mean of
// the newest second that had one (0 before the first).
type hashTimes struct {
	mu  sync.Mutex
	sec [hashWindow]int64         // the Unix second each bucket counts
	sum [hashWindow]time.Duration // the time of its hashes
	n   [hashWindow]int64         // their number
}

const hashWindow = 10

func (t *hashTimes) add(now time.Time, took time.Duration) {
	sec := now.Unix()
	i := (sec%hashWindow + hashWindow) % hashWindow
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.sec[i] > sec:
		return // a goroutine late by ten seconds and more: its bucket has moved on
	case t.sec[i] < sec:
		t.sec[i], t.sum[i], t.n[i] = sec, 0, 0
	}
	t.sum[i] += took
	t.n[i]++
}

func (t *hashTimes) mean(now time.Time) time.Duration {
	sec := now.Unix()
	t.mu.Lock()
	defer t.mu.Unlock()
	var sum time.Duration
	var n int64
	newest := -1
	for i := range hashWindow {
		if t.n[i] == 0 {
			continue
		}
		if age := sec - t.sec[i]; age >= 0 && age < hashWindow { // a clock stepped back leaves its future out
			sum += t.sum[i]
			n += t.n[i]
		}
		if newest < 0 || t.sec[i] > t.sec[newest] {
			newest = i
		}
	}
	switch {
	case n > 0:
		return sum / time.Duration(n)
	case newest >= 0:
		return t.sum[newest] / time.Duration(t.n[newest])
	}
	return 0
}

// idKey is argon2.IDKey, for a test to see the parameters of each hash.
var idKey = argon2.IDKey

// Hash returns the argon2id hash of password as a PHC string,
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>, with salt and hash in
// standard base64 without padding, as the reference implementation writes
// them. It fails only if ctx ends while waiting for a place to run, or the
// password is longer than 4096 bytes.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if len(password) > maxPasswordBytes {
		return "", ErrPasswordTooLong
	}
	salt := make([]byte, h.params.SaltLen)
	rand.Read(salt) // never fails; the program crashes if the system cannot give randomness
	start, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	key := idKey([]byte(password), salt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	h.release(start)
	return encodeArgon2id(h.params, salt, key), nil
}

func encodeArgon2id(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// Verify reports whether password matches the stored hash encoded, in
// constant time, and whether the hash should be replaced by a new Hash of
// the password: needsRehash is true only when ok is, and when the hash is
// argon2id with parameters other than h's, or any other format. err is
// non-nil only when encoded cannot be read (ErrHashFormat) or ctx ends while
// waiting; a wrong password is ok == false with no error.
//
// Accepted formats (legacy ones come from imports of older systems; an
// importer adds the {SCHEME} prefix where the old system stored bare digests):
//
//	$argon2id$v=19$m=…,t=…,p=…$salt$hash    PHC string, base64 without padding (what Hash writes)
//	$argon2i$v=19$m=…,t=…,p=…$salt$hash     the same with argon2i
//	$2a$…, $2b$…, $2y$…                      bcrypt, cost at most 16
//	$pbkdf2-sha256$i=N[,l=L]$salt$hash      PHC PBKDF2 (also -sha512, and $pbkdf2$ for SHA-1);
//	$pbkdf2-sha256$N$salt$hash              the same in passlib's form ("." for "+" in base64)
//	pbkdf2_sha256$N$salt$base64hash         Django (also pbkdf2_sha1); the salt is used as text
//	{MD5}d, {SHA}d or {SHA1}d, {SHA256}d, {SHA512}d
//	                                        unsalted digest d, in hex (either case) or in
//	                                        padded base64 (RFC 2307 / LDAP style)
//	{SMD5}b, {SSHA}b, {SSHA256}b, {SSHA512}b
//	                                        salted digest: b is base64(digest(password+salt) || salt)
//
// PBKDF2 iteration counts above 5,000,000 and argon2 memory above 1 GiB are
// refused as malformed, so that a stored hash cannot stall the server.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, needsRehash bool, err error) {
	ph, err := parseHash(encoded)
	if err != nil {
		return false, false, err
	}
	if len(password) > maxPasswordBytes {
		// Refused, but only after the same work as a wrong password: an
		// answer that came back at once would tell that the account exists.
		h.DummyVerify(ctx)
		return false, false, nil
	}
	start, err := h.acquire(ctx)
	if err != nil {
		return false, false, err
	}
	ok = ph.check(password)
	h.release(start)
	if !ok {
		return false, false, nil
	}
	return true, ph.scheme != "argon2id" || ph.params != h.params, nil
}

// NeedsRehash reports whether a stored hash is in another format than a
// Hash from h would be, without knowing the password.
func (h *Hasher) NeedsRehash(encoded string) bool {
	ph, err := parseHash(encoded)
	return err != nil || ph.scheme != "argon2id" || ph.params != h.params
}

// dummySalt and dummyKey are what DummyVerify checks against.
var (
	dummySalt = []byte("unid dummy salt.")
	dummyKey  = make([]byte, 32)
)

// DummyVerify does the work of one Verify against an argon2id hash with h's
// parameters, and throws the answer away. A sign-in for an identifier that
// has no account calls it, so that it takes as long as one for an account
// with a wrong password, and timing does not tell which accounts exist.
func (h *Hasher) DummyVerify(ctx context.Context) {
	start, err := h.acquire(ctx)
	if err != nil {
		return
	}
	key := idKey([]byte("unid dummy password"), dummySalt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	h.release(start)
	subtle.ConstantTimeCompare(key, dummyKey)
}

// parsedHash is a stored hash, read but not yet checked.
type parsedHash struct {
	scheme  string // "argon2id", "argon2i", "bcrypt", "pbkdf2", "digest"
	params  Params // argon2
	encoded string // bcrypt: the whole string
	newHash func() hash.Hash
	rounds  int    // pbkdf2
	salt    []byte // argon2, pbkdf2, salted digests
	sum     []byte
}

// check computes the hash of password the way ph was made and compares it in
// constant time.
func (ph parsedHash) check(password string) bool {
	var got []byte
	switch ph.scheme {
	case "argon2id":
		got = idKey([]byte(password), ph.salt, ph.params.Time, ph.params.Memory, ph.params.Threads, ph.params.KeyLen)
	case "argon2i":
		got = argon2.Key([]byte(password), ph.salt, ph.params.Time, ph.params.Memory, ph.params.Threads, ph.params.KeyLen)
	case "bcrypt":
		return bcrypt.CompareHashAndPassword([]byte(ph.encoded), []byte(password)) == nil
	case "pbkdf2":
		var err error
		got, err = pbkdf2.Key(ph.newHash, password, ph.salt, ph.rounds, len(ph.sum))
		if err != nil {
			return false
		}
	case "digest":
		d := ph.newHash()
		d.Write([]byte(password))
		d.Write(ph.salt)
		got = d.Sum(nil)
	default:
		return false
	}
	return subtle.ConstantTimeCompare(got, ph.sum) == 1
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrHashFormat}, args...)...)
}

// parseHash reads a stored hash in one of the formats listed at Verify.
func parseHash(s string) (parsedHash, error) {
	switch {
	case strings.HasPrefix(s, "$argon2id$"), strings.HasPrefix(s, "$argon2i$"):
		return parseArgon2(s)
	case strings.HasPrefix(s, "$2a$"), strings.HasPrefix(s, "$2b$"), strings.HasPrefix(s, "$2y$"):
		cost, err := bcrypt.Cost([]byte(s))
		if err != nil {
			return parsedHash{}, malformed("bcrypt: %v", err)
		}
		if cost > maxBcryptCost {
			return parsedHash{}, malformed("bcrypt cost %d is more than %d", cost, maxBcryptCost)
		}
		return parsedHash{scheme: "bcrypt", encoded: s}, nil
	case strings.HasPrefix(s, "$pbkdf2"):
		return parsePBKDF2(s)
	case strings.HasPrefix(s, "pbkdf2_"):
		return parseDjango(s)
	case strings.HasPrefix(s, "{"):
		return parseDigest(s)
	}
	return parsedHash{}, malformed("unknown scheme")
}

// parseArgon2 reads $argon2id$v=19$m=M,t=T,p=P$salt$hash (or argon2i).
func parseArgon2(s string) (parsedHash, error) {
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" {
		return parsedHash{}, malformed("argon2: want 5 fields")
	}
	if f[2] != "v=19" {
		return parsedHash{}, malformed("argon2: version %q is not v=19", f[2])
	}
	kv := strings.Split(f[3], ",")
	if len(kv) != 3 {
		return parsedHash{}, malformed("argon2: want m, t and p")
	}
	var m, t, p uint64
	for i, dst := range []*uint64{&m, &t, &p} {
		name, val, _ := strings.Cut(kv[i], "=")
		if name != "mtp"[i:i+1] {
			return parsedHash{}, malformed("argon2: want m, t and p in order")
		}
		n, err := strconv.ParseUint(val, 10, 32)
		if err != nil || n == 0 {
			return parsedHash{}, malformed("argon2: bad %s", name)
		}
		*dst = n
	}
	if p > 255 {
		return parsedHash{}, malformed("argon2: parallelism %d", p)
	}
	salt, err1 := decodeB64(f[4])
	sum, err2 := decodeB64(f[5])
	if err1 != nil || err2 != nil {
		return parsedHash{}, malformed("argon2: bad base64")
	}
	params := Params{Memory: uint32(m), Time: uint32(t), Threads: uint8(p), SaltLen: uint32(len(salt)), KeyLen: uint32(len(sum))}
	if err := params.check(); err != nil {
		return parsedHash{}, malformed("%v", err)
	}
	return parsedHash{scheme: f[1], params: params, salt: salt, sum: sum}, nil
}

// decodeB64 reads standard base64 with or without padding, also in passlib's
// adapted alphabet that writes "." for "+".
func decodeB64(s string) ([]byte, error) {
	s = strings.TrimRight(strings.ReplaceAll(s, ".", "+"), "=")
	return base64.RawStdEncoding.DecodeString(s)
}

var pbkdf2Hashes = map[string]func() hash.Hash{
	"pbkdf2":        sha1.New,
	"pbkdf2-sha1":   sha1.New,
	"pbkdf2-sha256": sha256.New,
	"pbkdf2-sha512": sha512.New,
}

// parsePBKDF2 reads $pbkdf2-sha256$i=N[,l=L]$salt$hash and passlib's
// $pbkdf2-sha256$N$salt$hash.
func parsePBKDF2(s string) (parsedHash, error) {
	f := strings.Split(s, "$")
	if len(f) != 5 || f[0] != "" {
		return parsedHash{}, malformed("pbkdf2: want 4 fields")
	}
	newHash, ok := pbkdf2Hashes[f[1]]
	if !ok {
		return parsedHash{}, malformed("pbkdf2: unknown hash %q", f[1])
	}
	rounds, length := f[2], ""
	if strings.HasPrefix(rounds, "i=") {
		rounds, length, _ = strings.Cut(rounds[2:], ",")
	}
	n, err := parseRounds(rounds)
	if err != nil {
		return parsedHash{}, err
	}
	salt, err1 := decodeB64(f[3])
	sum, err2 := decodeB64(f[4])
	if err1 != nil || err2 != nil || len(salt) == 0 {
		return parsedHash{}, malformed("pbkdf2: bad base64")
	}
	if length != "" && length != "l="+strconv.Itoa(len(sum)) {
		return parsedHash{}, malformed("pbkdf2: length %q does not match the hash", length)
	}
	if len(sum) < minKeyLen || len(sum) > maxKeyLen {
		return parsedHash{}, malformed("pbkdf2: hash of %d bytes", len(sum))
	}
	return parsedHash{scheme: "pbkdf2", newHash: newHash, rounds: n, salt: salt, sum: sum}, nil
}

// parseDjango reads Django's pbkdf2_sha256$N$salt$base64hash.
func parseDjango(s string) (parsedHash, error) {
	f := strings.Split(s, "$")
	if len(f) != 4 {
		return parsedHash{}, malformed("django: want 4 fields")
	}
	var newHash func() hash.Hash
	switch f[0] {
	case "pbkdf2_sha256":
		newHash = sha256.New
	case "pbkdf2_sha1":
		newHash = sha1.New
	default:
		return parsedHash{}, malformed("django: unknown hasher %q", f[0])
	}
	n, err := parseRounds(f[1])
	if err != nil {
		return parsedHash{}, err
	}
	sum, err := base64.StdEncoding.DecodeString(f[3])
	if err != nil || f[2] == "" || len(sum) < minKeyLen || len(sum) > maxKeyLen {
		return parsedHash{}, malformed("django: bad salt or hash")
	}
	return parsedHash{scheme: "pbkdf2", newHash: newHash, rounds: n, salt: []byte(f[2]), sum: sum}, nil
}

func parseRounds(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxPBKDF2Rounds || s[0] == '+' {
		return 0, malformed("pbkdf2: bad iteration count %q", s)
	}
	return n, nil
}

// digests are the {SCHEME} prefixes of unsalted and salted digests.
var digests = map[string]struct {
	newHash func() hash.Hash
	salted  bool
}{
	"MD5": {md5.New, false}, "SHA": {sha1.New, false}, "SHA1": {sha1.New, false},
	"SHA256": {sha256.New, false}, "SHA512": {sha512.New, false},
	"SMD5": {md5.New, true}, "SSHA": {sha1.New, true}, "SSHA1": {sha1.New, true},
	"SSHA256": {sha256.New, true}, "SSHA512": {sha512.New, true},
}

// parseDigest reads {SCHEME}value as listed at Verify.
func parseDigest(s string) (parsedHash, error) {
	end := strings.IndexByte(s, '}')
	if end < 0 {
		return parsedHash{}, malformed("digest: no closing brace")
	}
	d, ok := digests[strings.ToUpper(s[1:end])]
	if !ok {
		return parsedHash{}, malformed("digest: unknown scheme %q", s[1:end])
	}
	v := s[end+1:]
	size := d.newHash().Size()
	if d.salted {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(b) <= size {
			return parsedHash{}, malformed("digest: bad salted value")
		}
		return parsedHash{scheme: "digest", newHash: d.newHash, sum: b[:size], salt: b[size:]}, nil
	}
	var sum []byte
	var err error
	switch len(v) {
	case 2 * size:
		sum, err = hex.DecodeString(v)
	case base64.StdEncoding.EncodedLen(size):
		sum, err = base64.StdEncoding.DecodeString(v)
	default:
		err = errors.New("wrong length")
	}
	if err != nil || len(sum) != size {
		return parsedHash{}, malformed("digest: bad value")
	}
	return parsedHash{scheme: "digest", newHash: d.newHash, sum: sum}, nil
}
