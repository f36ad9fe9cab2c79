package account

import (
	"context"
	"errors"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"unid/internal/problem"
)

// cheap are argon2id parameters that make tests fast; they are never used
// for real passwords.
var cheap = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

var phcArgon2id = regexp.MustCompile(`^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$`)

func TestHashAndVerify(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(cheap, 0)
	for _, pw := range []string{"Blue7horse!", "密码Mima2024", " spaces count ", strings.Repeat("长", 128)} {
		t.Run(pw, func(t *testing.T) {
			enc, err := h.Hash(ctx, pw)
			if err != nil {
				t.Fatal(err)
			}
			m := phcArgon2id.FindStringSubmatch(enc)
			if m == nil || m[1] != "64" || m[2] != "1" || m[3] != "1" {
				t.Fatalf("Hash = %q, not a PHC argon2id string with m=64,t=1,p=1", enc)
			}
			if again, _ := h.Hash(ctx, pw); again == enc {
				t.Fatal("two hashes of one password are equal: the salt is not random")
			}
			ok, rehash, err := h.Verify(ctx, pw, enc)
			if !ok || rehash || err != nil {
				t.Fatalf("Verify(right password) = %v, %v, %v; want true, false, nil", ok, rehash, err)
			}
			for _, wrong := range []string{"", pw + " ", strings.ToUpper(pw), pw[:len(pw)-1]} {
				if wrong == pw {
					continue
				}
				if ok, rehash, err := h.Verify(ctx, wrong, enc); ok || rehash || err != nil {
					t.Fatalf("Verify(%q) = %v, %v, %v; want false, false, nil", wrong, ok, rehash, err)
				}
			}
		})
	}
}

// The reference implementation (the argon2 command of Debian's argon2
// package, 20171227) made these:
//
//	echo -n "correct horse" | argon2 saltsaltsalt1234 -id -k 19456 -t 2 -p 1 -l 32 -e
const (
	refDefault  = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0MTIzNA$vWSoMy/UBm7ShOEEO3CVOYYYpe0ltdjB2r2WSXbPFfc"
	refM16384   = "$argon2id$v=19$m=16384,t=2,p=1$c2FsdHNhbHRzYWx0MTIzNA$FatYQX8VpqOtWmU4bmv6xaoWNUiqODmU8Qk84v5v+EM"
	refArgon2i  = "$argon2i$v=19$m=1024,t=2,p=2$c2FsdHNhbHRzYWx0MTIzNA$RzBd1Iwy061dUckGGD4sIIxb455eLBKKDVma5MF4alQ"
	refPassword = "correct horse"
)

func TestHashMatchesReferenceImplementation(t *testing.T) {
	h := NewHasher(DefaultParams(), 0)
	got := encodeArgon2id(DefaultParams(), []byte("saltsaltsalt1234"), nil)
	if want := refDefault[:strings.LastIndexByte(refDefault, '$')+1]; got != want {
		t.Errorf("encoding = %q, want the reference's %q", got, want)
	}
	ok, rehash, err := h.Verify(context.Background(), refPassword, refDefault)
	if !ok || rehash || err != nil {
		t.Fatalf("Verify(reference hash) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
}

// legacy hashes of "correct horse", made with Python's hashlib, htpasswd and
// the argon2 command; see the comment of each.
var legacy = []struct {
	name, encoded string
}{
	{"argon2id other params", refM16384},
	{"argon2i", refArgon2i},
	{"bcrypt 2y (htpasswd -B -C 5)", "$2y$05$fBpTOLiX3nyFAHM2JIaay.JS.MwXUtEd4kmi2Znxik2JyW.3vfXh6"},
	{"bcrypt 2a", "$2a$05$fBpTOLiX3nyFAHM2JIaay.JS.MwXUtEd4kmi2Znxik2JyW.3vfXh6"},
	{"bcrypt 2b", "$2b$05$fBpTOLiX3nyFAHM2JIaay.JS.MwXUtEd4kmi2Znxik2JyW.3vfXh6"},
	{"pbkdf2-sha256 PHC", "$pbkdf2-sha256$i=1000,l=32$c2FsdHNhbHQ$qQDPSZa3Ormyy9oK1Pu0ZLLwP2Svzmx3yu8OvDdq/J0"},
	{"pbkdf2-sha256 PHC without l", "$pbkdf2-sha256$i=1000$c2FsdHNhbHQ$qQDPSZa3Ormyy9oK1Pu0ZLLwP2Svzmx3yu8OvDdq/J0"},
	{"pbkdf2-sha512 PHC", "$pbkdf2-sha512$i=1000$c2FsdHNhbHQ$+sUSD8jw4f8ns7m9b7kj8PeJLe8lJXO8Am09BLgO79kST9D/Ija5aKINGF5Xg7hkKXw1+fNhBzzJP3eIXcWXww"},
	{"pbkdf2-sha256 passlib", "$pbkdf2-sha256$29000$........AQIDBAUGBwgJCg$t9qRyiyoK3L5v3sZ/ueVZaTnes.uhWT9OsEVg9NT00M"},
	{"pbkdf2 sha1 passlib", "$pbkdf2$1000$c2FsdHNhbHQ$wQoBU7GXMNo2CJC.raijrf6key4"},
	{"django pbkdf2_sha256", "pbkdf2_sha256$1000$Zs7aBzXQ$AnRUcm+eV0bf3S8RDAP5CTIBO+zRQZ/RjjFUqdLGSb4="},
	{"django pbkdf2_sha1", "pbkdf2_sha1$1000$Zs7aBzXQ$C+a7tjqiQa/zjGA0dn5yKl2HTgE="},
	{"MD5 hex", "{MD5}3cb4e732631f47e6eb961f34554b7cde"},
	{"MD5 hex upper", "{MD5}3CB4E732631F47E6EB961F34554B7CDE"},
	{"MD5 base64", "{MD5}PLTnMmMfR+brlh80VUt83g=="},
	{"lower-case scheme", "{md5}3cb4e732631f47e6eb961f34554b7cde"},
	{"SHA base64 (LDAP)", "{SHA}L55TUjtiq8FBorTWAZ0jy6g129A="},
	{"SHA1 hex", "{SHA1}2f9e53523b62abc141a2b4d6019d23cba835dbd0"},
	{"SHA256 hex", "{SHA256}4104D36F8DA2C254349F85836793EBE029E0C957063A34C91C2E9203187B5631"},
	{"SHA512 hex", "{SHA512}56b698defedb5a435b634afe3320bbaf3fdcd920b6c503a446fc7b7a776b298d479d1ba6a8b617808eb0bf579ce9a95d668347bcab7149085ac93cb27995197b"},
	{"SSHA", "{SSHA}NSZEu/ZzEMKdBO5ESNEYml3qKRYBAgMEBQYHCA=="},
	{"SSHA256", "{SSHA256}CFsq5JPfiBQ0W3uR5Dnao+9mknEq9a739V+FPkJ6yjABAgMEBQYHCA=="},
	{"SSHA512", "{SSHA512}ggObOJHDWCqgI5uFv/j9yDNYMvdTgt+Toj8d6cGrSG/e+E9GbH4DkQ8y5jY3NblhoGens+zNVX1mZaFy0qwRwwECAwQFBgcI"},
	{"SMD5", "{SMD5}vPjZQdkpEUFwnJ1WNg63FAECAwQFBgcI"},
}

func TestVerifyLegacy(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(DefaultParams(), 0)
	for _, tt := range legacy {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(ctx, refPassword, tt.encoded)
			if !ok || !rehash || err != nil {
				t.Fatalf("Verify(right password) = %v, %v, %v; want true, true, nil", ok, rehash, err)
			}
			for _, wrong := range []string{"correct horsE", "correct hors", "", "correct horse\x00"} {
				if wrong == "correct horse\x00" && strings.Contains(tt.name, "pbkdf2") {
					// HMAC pads a short key with zeros, so PBKDF2 cannot tell
					// a trailing NUL; only one who knows the password can
					// add it.
					continue
				}
				if ok, rehash, err := h.Verify(ctx, wrong, tt.encoded); ok || rehash || err != nil {
					t.Fatalf("Verify(%q) = %v, %v, %v; want false, false, nil", wrong, ok, rehash, err)
				}
			}
			if !h.NeedsRehash(tt.encoded) {
				t.Error("NeedsRehash = false")
			}
		})
	}
}

func TestRehashWhenParamsChange(t *testing.T) {
	ctx := context.Background()
	old := NewHasher(cheap, 0)
	enc, err := old.Hash(ctx, "Blue7horse!")
	if err != nil {
		t.Fatal(err)
	}
	if old.NeedsRehash(enc) {
		t.Error("NeedsRehash of a hash of the same parameters")
	}
	for _, p := range []Params{
		{Memory: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 32, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 64},
	} {
		h := NewHasher(p, 0)
		ok, rehash, err := h.Verify(ctx, "Blue7horse!", enc)
		if !ok || !rehash || err != nil {
			t.Errorf("with %+v: Verify = %v, %v, %v; want true, true, nil", p, ok, rehash, err)
		}
		if !h.NeedsRehash(enc) {
			t.Errorf("with %+v: NeedsRehash = false", p)
		}
	}
}

func TestVerifyMalformed(t *testing.T) {
	h := NewHasher(cheap, 0)
	for _, enc := range []string{
		"",
		"Blue7horse!",
		"3cb4e732631f47e6eb961f34554b7cde", // a bare digest: the importer must add {MD5}
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0MTIzNA",
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHRzYWx0MTIzNA$vWSoMy/UBm7ShOEEO3CVOYYYpe0ltdjB2r2WSXbPFfc",
		"$argon2id$m=64,t=1,p=1$c2FsdHNhbHRzYWx0MTIzNA$vWSoMy/UBm7ShOEEO3CVOYYYpe0ltdjB2r2WSXbPFfc",
		"$argon2id$v=19$t=1,m=64,p=1$c2FsdHNhbHRzYWx0MTIzNA$vWSoMy/UBm7ShOEEO3CVOYYYpe0ltdjB2r2WSXbPFfc",
		"$argon2id$v=19$m=0,t=1,p=1$c2FsdHNhbHRzYWx0MTIzNA$vWSoMy/UBm7ShOEEO3CVOYYYpe0ltdjB2r2WSXbPFfc",
		"$argon2id$v=19$m=64,t=0,p=1$c2FsdHNhbHRzYWx0MTIzNA$vWSoMy/UBm7ShOEEO3CVOYYYpe0ltdjB2r2WSXbPFfc",
		"$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHRzYWx0MTIzNA$vWSoMy/UBm7ShOEEO3CVOYYYpe0ltdjB2r2WSXbPFfc",
		"$argon2id$v=19$m=64,t=1,p=9$c2FsdHNhbHRzYWx0MTIzNA$vWSoMy/UBm7ShOEEO3CVOYYYpe0ltdjB2r2WSXbPFfc",
		"$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0MTIzNA$vWSoMy/UBm7ShOEEO3CVOYYYpe0ltdjB2r2WSXbPFfc",
		"$argon2id$v=19$m=64,t=1000,p=1$c2FsdHNhbHRzYWx0MTIzNA$vWSoMy/UBm7ShOEEO3CVOYYYpe0ltdjB2r2WSXbPFfc",
		"$argon2id$v=19$m=64,t=1,p=256$c2FsdHNhbHRzYWx0MTIzNA$vWSoMy/UBm7ShOEEO3CVOYYYpe0ltdjB2r2WSXbPFfc",
		"$argon2id$v=19$m=+64,t=1,p=1$c2FsdHNhbHRzYWx0MTIzNA$vWSoMy/UBm7ShOEEO3CVOYYYpe0ltdjB2r2WSXbPFfc",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdA$vWSoMy/UBm7ShOEEO3CVOYYYpe0ltdjB2r2WSXbPFfc", // 4-byte salt
		"$argon2id$v=19$m=64,t=1,p=1$$vWSoMy/UBm7ShOEEO3CVOYYYpe0ltdjB2r2WSXbPFfc",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0MTIzNA$vWSo",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0MTIzNA$!!!!",
		"$argon2d$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0MTIzNA$vWSoMy/UBm7ShOEEO3CVOYYYpe0ltdjB2r2WSXbPFfc",
		"$2a$05$short",
		"$2a$31$fBpTOLiX3nyFAHM2JIaay.JS.MwXUtEd4kmi2Znxik2JyW.3vfXh6", // cost 31 would take days
		"$2x$05$fBpTOLiX3nyFAHM2JIaay.JS.MwXUtEd4kmi2Znxik2JyW.3vfXh6",
		"$pbkdf2-sha256$i=0$c2FsdHNhbHQ$qQDPSZa3Ormyy9oK1Pu0ZLLwP2Svzmx3yu8OvDdq/J0",
		"$pbkdf2-sha256$i=99999999$c2FsdHNhbHQ$qQDPSZa3Ormyy9oK1Pu0ZLLwP2Svzmx3yu8OvDdq/J0",
		"$pbkdf2-sha256$i=1000,l=16$c2FsdHNhbHQ$qQDPSZa3Ormyy9oK1Pu0ZLLwP2Svzmx3yu8OvDdq/J0",
		"$pbkdf2-sha256$i=+1000$c2FsdHNhbHQ$qQDPSZa3Ormyy9oK1Pu0ZLLwP2Svzmx3yu8OvDdq/J0",
		"$pbkdf2-md5$i=1000$c2FsdHNhbHQ$qQDPSZa3Ormyy9oK1Pu0ZLLwP2Svzmx3yu8OvDdq/J0",
		"$pbkdf2-sha256$i=1000$$qQDPSZa3Ormyy9oK1Pu0ZLLwP2Svzmx3yu8OvDdq/J0",
		"$pbkdf2-sha256$i=1000$c2FsdHNhbHQ$qQ",
		"pbkdf2_sha256$1000$Zs7aBzXQ",
		"pbkdf2_sha256$1000$$AnRUcm+eV0bf3S8RDAP5CTIBO+zRQZ/RjjFUqdLGSb4=",
		"pbkdf2_sha256$abc$Zs7aBzXQ$AnRUcm+eV0bf3S8RDAP5CTIBO+zRQZ/RjjFUqdLGSb4=",
		"pbkdf2_md5$1000$Zs7aBzXQ$AnRUcm+eV0bf3S8RDAP5CTIBO+zRQZ/RjjFUqdLGSb4=",
		"{MD5}3cb4e732631f47e6eb961f34554b7cd",
		"{MD5}3cb4e732631f47e6eb961f34554b7czz",
		"{SHA256}3cb4e732631f47e6eb961f34554b7cde",
		"{SSHA}NSZEu/ZzEMKdBO5ESNEYml3qKRY=", // no salt
		"{SSHA}!!!",
		"{CRYPT}$1$abc$def",
		"{MD5",
	} {
		t.Run(enc, func(t *testing.T) {
			ok, rehash, err := h.Verify(context.Background(), refPassword, enc)
			if ok || rehash || !errors.Is(err, ErrHashFormat) {
				t.Fatalf("Verify = %v, %v, %v; want false, false, ErrHashFormat", ok, rehash, err)
			}
			if !h.NeedsRehash(enc) {
				t.Error("NeedsRehash = false")
			}
		})
	}
}

func TestPasswordTooLong(t *testing.T) {
	h := NewHasher(cheap, 0)
	long := strings.Repeat("a", maxPasswordBytes+1)
	if _, err := h.Hash(context.Background(), long); !errors.Is(err, ErrPasswordTooLong) {
		t.Fatalf("Hash = %v, want ErrPasswordTooLong", err)
	}
	enc, _ := h.Hash(context.Background(), long[:maxPasswordBytes])
	if ok, _, err := h.Verify(context.Background(), long, enc); ok || err != nil {
		t.Fatalf("Verify = %v, %v", ok, err)
	}
}

func TestHasherBoundsConcurrency(t *testing.T) {
	h := NewHasher(cheap, 2)
	if cap(h.sem) != 2 {
		t.Fatalf("semaphore of %d", cap(h.sem))
	}
	if d := NewHasher(cheap, 0); cap(d.sem) != runtime.GOMAXPROCS(0) {
		t.Fatalf("default semaphore of %d, want GOMAXPROCS", cap(d.sem))
	}
	enc, _ := h.Hash(context.Background(), "Blue7horse!")

	// Take both places: every kind of hashing must wait, and give up when
	// its context ends.
	h.sem <- struct{}{}
	h.sem <- struct{}{}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "Blue7horse!"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Hash while full = %v, want DeadlineExceeded", err)
	}
	if ok, _, err := h.Verify(ctx, "Blue7horse!", enc); ok || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Verify while full = %v, %v; want DeadlineExceeded", ok, err)
	}
	start := time.Now()
	h.DummyVerify(ctx)
	if time.Since(start) > time.Second {
		t.Error("DummyVerify did not give up with its context")
	}

	// A waiting hash runs once a place is free.
	done := make(chan error)
	go func() {
		_, err := h.Hash(context.Background(), "Blue7horse!")
		done <- err
	}()
	select {
	case <-done:
		t.Fatal("Hash ran while no place was free")
	case <-time.After(20 * time.Millisecond):
	}
	for deadline := time.Now().Add(5 * time.Second); h.Waiting() != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("Waiting = %d with one hash queued", h.Waiting())
		}
	}
	<-h.sem
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := h.Waiting(); n != 0 {
		t.Errorf("Waiting = %d after the queue ran", n)
	}
	<-h.sem
	if len(h.sem) != 0 {
		t.Fatalf("%d places still taken", len(h.sem))
	}
}

func TestHasherConcurrentUse(t *testing.T) {
	h := NewHasher(cheap, 3)
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			pw := strings.Repeat("x", i+1) + "A1!"
			enc, err := h.Hash(context.Background(), pw)
			if err != nil {
				t.Error(err)
				return
			}
			if ok, _, err := h.Verify(context.Background(), pw, enc); !ok || err != nil {
				t.Errorf("Verify = %v, %v", ok, err)
			}
		})
	}
	wg.Wait()
}

// TestDummyVerifyCostsAVerify: a sign-in for an unknown identifier, and one
// with a password too long to hash, pay one argon2id hash at the hasher's
// parameters, as a wrong password does. The hashes are recorded, not
// timed: a timing compared on a busy machine says more of the machine.
func TestDummyVerifyCostsAVerify(t *testing.T) {
	p := Params{Memory: 4096, Time: 3, Threads: 1}
	h := NewHasher(p, 1)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "Blue7horse!")
	if err != nil {
		t.Fatal(err)
	}
	type call struct {
		time, memory uint32
		threads      uint8
		keyLen       uint32
	}
	var calls []call
	orig := idKey
	idKey = func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
		calls = append(calls, call{time, memory, threads, keyLen})
		return orig(password, salt, time, memory, threads, keyLen)
	}
	t.Cleanup(func() { idKey = orig })
	want := call{h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen}
	long := strings.Repeat("x", maxPasswordBytes+1)
	for _, tt := range []struct {
		name string
		try  func()
	}{
		{"a wrong password", func() { h.Verify(ctx, "wrong", enc) }},
		{"no account", func() { h.DummyVerify(ctx) }},
		{"a password too long to hash", func() { h.Verify(ctx, long, enc) }},
	} {
		calls = nil
		tt.try()
		if len(calls) != 1 || calls[0] != want {
			t.Errorf("%s hashed %+v, want once at %+v", tt.name, calls, want)
		}
	}
}

func TestParams(t *testing.T) {
	if d := DefaultParams(); d != (Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}) {
		t.Fatalf("DefaultParams = %+v", d)
	}
	if h := NewHasher(Params{}, 0); h.Params() != DefaultParams() {
		t.Errorf("zero params became %+v, want the defaults", h.Params())
	}
	if h := NewHasher(Params{Memory: 65536, Time: 3}, 0); h.Params() != (Params{Memory: 65536, Time: 3, Threads: 1, SaltLen: 16, KeyLen: 32}) {
		t.Errorf("params became %+v", h.Params())
	}
	tests := []struct {
		p  Params
		ok bool
	}{
		{DefaultParams(), true},
		{Params{}, true},
		{Params{Memory: 64, Threads: 8}, true},
		{Params{Memory: 63, Threads: 8}, false},
		{Params{Memory: maxArgonMemory + 1}, false},
		{Params{Time: maxArgonTime + 1}, false},
		{Params{SaltLen: 7}, false},
		{Params{SaltLen: 65}, false},
		{Params{KeyLen: 15}, false},
		{Params{KeyLen: 129}, false},
	}
	for _, tt := range tests {
		err := tt.p.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("%+v.Validate() = %v", tt.p, err)
		}
		if !tt.ok {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("NewHasher(%+v) did not panic", tt.p)
					}
				}()
				NewHasher(tt.p, 0)
			}()
		}
	}
}

// FuzzParseHash checks that reading any stored hash neither panics nor
// accepts parameters that would stall the server.
func FuzzParseHash(f *testing.F) {
	f.Add(refDefault)
	for _, l := range legacy {
		f.Add(l.encoded)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ph, err := parseHash(s)
		if err != nil {
			if !errors.Is(err, ErrHashFormat) {
				t.Fatalf("parseHash(%q) = %v", s, err)
			}
			return
		}
		switch ph.scheme {
		case "argon2id", "argon2i":
			if ph.params.check() != nil {
				t.Fatalf("parseHash(%q) accepted %+v", s, ph.params)
			}
		case "pbkdf2":
			if ph.rounds < 1 || ph.rounds > maxPBKDF2Rounds || len(ph.salt) == 0 {
				t.Fatalf("parseHash(%q) accepted %d rounds", s, ph.rounds)
			}
		}
		if ph.scheme != "bcrypt" && len(ph.sum) == 0 {
			t.Fatalf("parseHash(%q): empty hash", s)
		}
	})
}

func BenchmarkHash(b *testing.B) {
	h := NewHasher(DefaultParams(), 0)
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "Blue7horse!"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
}

func BenchmarkVerify(b *testing.B) {
	h := NewHasher(DefaultParams(), 0)
	ctx := context.Background()
	enc, _ := h.Hash(ctx, "Blue7horse!")
	for b.Loop() {
		if ok, _, err := h.Verify(ctx, "Blue7horse!", enc); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
}

// BenchmarkVerifyParallel shows how many sign-ins per second the machine can
// check with every core busy.
func BenchmarkVerifyParallel(b *testing.B) {
	h := NewHasher(DefaultParams(), 0)
	ctx := context.Background()
	enc, _ := h.Hash(ctx, "Blue7horse!")
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h.Verify(ctx, "Blue7horse!", enc)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifies/s")
}

// TestAdmitBoundsTheWait: Admit refuses while the hashes ahead, shared
// among the workers at the time hashes have lately taken, would keep a new
// one past the maximum wait, and admits again once the queue has run.
func TestAdmitBoundsTheWait(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(cheap, 2).WithMaxWait(50 * time.Millisecond)
	admit := func() error { return h.admitOnly(ctx, 1) }
	if err := admit(); err != nil {
		t.Fatalf("Admit before any hash = %v", err)
	}
	if _, err := h.Hash(ctx, "Blue7horse!"); err != nil {
		t.Fatal(err)
	}
	if h.times.mean(time.Now()) <= 0 {
		t.Fatal("a hash's time was not counted")
	}
	h.times.set(40 * time.Millisecond) // as if hashes took 40 ms

	// Both places taken, and three hashes queued behind them: 3 × 40 ms
	// over 2 workers is 60 ms.
	h.sem <- struct{}{}
	h.sem <- struct{}{}
	queued := make(chan error, 3)
	for range 3 {
		go func() {
			_, err := h.Hash(ctx, "Blue7horse!")
			queued <- err
		}()
	}
	for deadline := time.Now().Add(5 * time.Second); h.Waiting() != 3; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("Waiting = %d with three hashes queued", h.Waiting())
		}
	}
	if d := h.expectedWait(h.wait.Load() + h.pending.Load()); d != 60*time.Millisecond {
		t.Errorf("expected wait = %s, want 60ms", d)
	}
	err := admit()
	var p *problem.Problem
	if !errors.As(err, &p) || p.Kind != problem.Unavailable || p.Code != problem.CodeBusy || p.RetryAfter != 60*time.Millisecond {
		t.Fatalf("Admit with 60 ms queued = %v, want busy, Retry-After 60ms", err)
	}
	if n := h.Refused(); n != 1 {
		t.Errorf("Refused = %d, want 1", n)
	}
	if n := h.pending.Load(); n != 0 {
		t.Errorf("pending = %d after a refusal, want 0", n)
	}
	if err := h.WithMaxWait(0).admitOnly(ctx, 1); err != nil {
		t.Errorf("Admit without a bound = %v", err)
	}
	if err := h.WithMaxWait(time.Second).admitOnly(ctx, 1); err != nil {
		t.Errorf("Admit within the bound = %v", err)
	}
	h.WithMaxWait(50 * time.Millisecond)

	<-h.sem
	<-h.sem
	for range 3 {
		if err := <-queued; err != nil {
			t.Fatal(err)
		}
	}
	if err := admit(); err != nil {
		t.Errorf("Admit once the queue has run = %v", err)
	}
}

// admitOnly is Admit for a request that goes no further.
func (h *Hasher) admitOnly(ctx context.Context, hashes int) error {
	_, done, err := h.Admit(ctx, hashes)
	done()
	return err
}

// TestAdmittedRequestsCountForTheNext: requests admitted together count
// for the ones after them, each for as many hashes as it will make, until
// their hashes ask for places (then they count among the waiting, once) or
// they give up; so a burst that arrives at once is not admitted whole.
func TestAdmittedRequestsCountForTheNext(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(cheap, 1).WithMaxWait(100 * time.Millisecond)
	h.times.set(40 * time.Millisecond)
	h.sem <- struct{}{} // the one place taken: every hash from here waits

	// 40 ms each, one worker: three ahead are 120 ms, over the bound.
	var admitted []context.Context
	var dones []func()
	for i := range 3 {
		actx, done, err := h.Admit(ctx, 1)
		if err != nil {
			t.Fatalf("request %d refused with %d ahead: %v", i+1, i, err)
		}
		admitted, dones = append(admitted, actx), append(dones, done)
	}
	if err := h.admitOnly(ctx, 1); err == nil {
		t.Fatal("a fourth request admitted with three admitted ahead (120 ms at 40 ms each)")
	}

	// The first admitted gives up before its hash: its place goes.
	dones[0]()
	dones[0]() // twice changes nothing
	if n := h.pending.Load(); n != 2 {
		t.Fatalf("pending = %d after one gave up, want 2", n)
	}
	// The second's hash asks for a place and waits: it counts once.
	verified := make(chan error, 1)
	go func() {
		_, err := h.Hash(admitted[1], "Blue7horse!")
		verified <- err
	}()
	for deadline := time.Now().Add(5 * time.Second); h.Waiting() != 1 || h.pending.Load() != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("Waiting = %d, pending = %d with the second waiting; want 1 and 1 (the third)", h.Waiting(), h.pending.Load())
		}
	}
	dones[1]() // its handler returns later: nothing left to give back
	if d := h.expectedWait(h.wait.Load() + h.pending.Load()); d != 80*time.Millisecond {
		t.Errorf("expected wait = %s with one waiting and one admitted, want 80ms", d)
	}
	// A request of two hashes counts for two: 80 ms ahead is within the
	// bound, but the next finds 160 ms ahead.
	actx, done, err := h.Admit(ctx, 2)
	if err != nil {
		t.Fatalf("a request of two hashes with 80 ms ahead: %v", err)
	}
	if n := h.pending.Load(); n != 3 {
		t.Errorf("pending = %d with the third and a request of two admitted, want 3", n)
	}
	if err := h.admitOnly(ctx, 1); err == nil {
		t.Error("a request admitted with two places held ahead of it besides")
	}
	dones[2]()
	<-h.sem
	if err := <-verified; err != nil {
		t.Fatal(err)
	}
	// Its first hash, with a place free at once, gives back one place; the
	// second, none asked for, goes with done.
	if _, err := h.Hash(actx, "Blue7horse!"); err != nil {
		t.Fatal(err)
	}
	if n := h.pending.Load(); n != 1 {
		t.Errorf("pending = %d after one of two hashes, want 1", n)
	}
	done()
	if n := h.pending.Load(); n != 0 {
		t.Errorf("pending = %d at the end, want 0", n)
	}
}

// TestAdmitWithinAnAdmission: a request admitted for all its hashes (a
// password change: the current password and the new one) passes the
// admission of a step inside it at once, counted no further, however long
// the queue has grown meanwhile.
func TestAdmitWithinAnAdmission(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(cheap, 1).WithMaxWait(50 * time.Millisecond)
	h.times.set(40 * time.Millisecond)
	h.sem <- struct{}{} // the one place taken: every hash from here waits
	actx, done, err := h.Admit(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	if err := h.admitOnly(ctx, 1); err == nil {
		t.Fatal("another request admitted with 80 ms ahead")
	}
	ictx, inner, err := h.Admit(actx, 1)
	if err != nil {
		t.Fatalf("the step of an admitted request: %v", err)
	}
	inner()
	if ictx != actx || h.pending.Load() != 2 {
		t.Errorf("the step counted again: pending = %d, want 2", h.pending.Load())
	}
	// A step of more hashes than the admission holds is judged.
	if _, _, err := h.Admit(actx, 3); err == nil {
		t.Error("a step of three hashes passed an admission of two")
	}
	// Another hasher's admission is no admission here.
	other := &admission{h: NewHasher(cheap, 1)}
	other.left.Store(2)
	if _, _, err := h.Admit(context.WithValue(ctx, admissionKey{}, other), 1); err == nil {
		t.Error("admitted on another hasher's admission")
	}
	// Nor is one whose request is over, though its context lives on (a
	// detached context).
	done()
	again, next, err := h.Admit(actx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if again == actx || h.pending.Load() != 1 {
		t.Errorf("a step after its request was over counted nothing: pending = %d, want 1", h.pending.Load())
	}
	next()
	<-h.sem
}

// TestRequestsArrivingTogetherSeeEachOther: of requests that ask in the
// same instant, no more are admitted than the bound allows, because each
// is counted before it is judged. (Judged first, a few of them would now
// and then all see the same queue; a thousand rounds catch that.)
func TestRequestsArrivingTogetherSeeEachOther(t *testing.T) {
	// Together means on several cores at once, whatever the machine has.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(4, runtime.GOMAXPROCS(0))))
	ctx := context.Background()
	h := NewHasher(cheap, 1).WithMaxWait(100 * time.Millisecond)
	h.times.set(40 * time.Millisecond) // none, one or two ahead fit: three at most
	for round := range 1000 {
		var (
			mu    sync.Mutex
			dones []func()
			wg    sync.WaitGroup
		)
		start := make(chan struct{})
		for range 32 {
			wg.Go(func() {
				<-start
				if _, done, err := h.Admit(ctx, 1); err == nil {
					mu.Lock()
					dones = append(dones, done)
					mu.Unlock()
				}
			})
		}
		close(start)
		wg.Wait()
		if n := len(dones); n < 1 || n > 3 {
			t.Fatalf("round %d: %d of 32 admitted together, want 1 to 3", round, n)
		}
		for _, done := range dones {
			done()
		}
		if n := h.pending.Load(); n != 0 {
			t.Fatalf("round %d: pending = %d after every request ended", round, n)
		}
	}
}

// TestOneSlowHashMovesTheWaitLittle: the time Admit judges by is the mean
// of the hashes of the last ten seconds: one imported hash of seconds among
// a busy second's hundreds moves it little, a steady share of them shows
// in full, and a quiet spell keeps the last mean.
func TestOneSlowHashMovesTheWaitLittle(t *testing.T) {
	var ht hashTimes
	now := time.Unix(1_800_000_000, 0)
	if m := ht.mean(now); m != 0 {
		t.Fatalf("mean before any hash = %s", m)
	}
	for range 199 {
		ht.add(now, 20*time.Millisecond)
	}
	ht.add(now.Add(500*time.Millisecond), 5*time.Second) // one bcrypt of cost 16
	if m := ht.mean(now.Add(time.Second)); m != 44900*time.Microsecond {
		t.Errorf("mean of 199 hashes of 20 ms and one of 5 s = %s, want 44.9ms", m)
	}
	// A fifth of them imported, at 500 ms, for ten seconds: the mean is the
	// true one.
	start := now.Add(time.Minute)
	for s := range 10 {
		at := start.Add(time.Duration(s) * time.Second)
		for range 80 {
			ht.add(at, 20*time.Millisecond)
		}
		for range 20 {
			ht.add(at, 500*time.Millisecond)
		}
	}
	if m := ht.mean(start.Add(9 * time.Second)); m != 116*time.Millisecond {
		t.Errorf("mean with a fifth at 500 ms = %s, want 116ms", m)
	}
	// The window's edge: a second nine seconds old counts, ten not.
	var edge hashTimes
	edge.add(now, 10*time.Millisecond)
	edge.add(now.Add(time.Second), 30*time.Millisecond)
	if m := edge.mean(now.Add(9 * time.Second)); m != 20*time.Millisecond {
		t.Errorf("mean with seconds nine and eight seconds old = %s, want 20ms", m)
	}
	if m := edge.mean(now.Add(10 * time.Second)); m != 30*time.Millisecond {
		t.Errorf("mean with seconds ten and nine seconds old = %s, want the younger's 30ms", m)
	}
	// Nothing for a minute: the newest second's mean stands.
	if m := ht.mean(start.Add(2 * time.Minute)); m != 116*time.Millisecond {
		t.Errorf("mean after a quiet minute = %s, want the newest second's, 116ms", m)
	}
	// The window moves on: only the last ten seconds count.
	later := start.Add(3 * time.Minute)
	ht.add(later, 30*time.Millisecond)
	if m := ht.mean(later); m != 30*time.Millisecond {
		t.Errorf("mean of a new window = %s, want 30ms", m)
	}
}

// set makes the mean d, as if hashes had taken d, with no hash in the
// window.
func (t *hashTimes) set(d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sec, t.sum, t.n = [hashWindow]int64{}, [hashWindow]time.Duration{}, [hashWindow]int64{}
	t.sec[0], t.sum[0], t.n[0] = 1, d, 1 // one hash of d, long ago
}
