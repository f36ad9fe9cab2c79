package account

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"unid/internal/store"
)

// KeySize is the size in bytes of every secret in Keys.
const KeySize = 32

// Keys is the key material of a Protector. Secrets are the sealing secrets
// by version: new data is sealed with Secrets[Current], and data sealed with
// any version in Secrets can be opened, so that keys can be rotated (see
// Rotate and Protector.NeedsReseal). IndexSecret keys the blind indexes and
// MACs; it never rotates, because every stored index would change with it.
//
// Keys' String and LogValue show only the versions, never the secrets.
type Keys struct {
	Current     uint32            `json:"current"`
	Secrets     map[uint32][]byte `json:"secrets"`
	IndexSecret []byte            `json:"index_secret"`
}

func (k Keys) String() string {
	return fmt.Sprintf("account.Keys{Current: %d, Versions: %v}", k.Current, slices.Sorted(maps.Keys(k.Secrets)))
}

// LogValue keeps the secrets out of structured logs.
func (k Keys) LogValue() slog.Value { return slog.StringValue(k.String()) }

// Validate reports whether k can make a Protector.
func (k Keys) Validate() error {
	if _, ok := k.Secrets[k.Current]; !ok {
		return fmt.Errorf("account: keys have no secret for the current version %d", k.Current)
	}
	for v, s := range k.Secrets {
		if len(s) != KeySize {
			return fmt.Errorf("account: secret version %d is %d bytes, want %d", v, len(s), KeySize)
		}
	}
	if len(k.IndexSecret) != KeySize {
		return fmt.Errorf("account: index secret is %d bytes, want %d", len(k.IndexSecret), KeySize)
	}
	return nil
}

// GenerateKeys returns new random keys with one secret, version 1.
func GenerateKeys() (Keys, error) {
	k := Keys{Current: 1, Secrets: map[uint32][]byte{1: randomKey()}, IndexSecret: randomKey()}
	return k, k.Validate()
}

// Rotate returns a copy of k with a new random secret, one version above the
// highest, made current. The old secrets stay, to open what they sealed.
func (k Keys) Rotate() (Keys, error) {
	if err := k.Validate(); err != nil {
		return Keys{}, err
	}
	next := slices.Max(slices.Collect(maps.Keys(k.Secrets))) + 1
	if next == 0 {
		return Keys{}, errors.New("account: no key version left")
	}
	r := Keys{Current: next, Secrets: maps.Clone(k.Secrets), IndexSecret: k.IndexSecret}
	r.Secrets[next] = randomKey()
	return r, nil
}

func randomKey() []byte {
	b := make([]byte, KeySize)
	rand.Read(b) // never fails; the program crashes if the system cannot give randomness
	return b
}

// Errors of Protector.Open.
var (
	ErrKeyVersion = errors.New("account: personal data is sealed with an unknown key version")
	ErrOpen       = errors.New("account: personal data cannot be opened: wrong kind or key, or altered")
)

// Layout of a ciphertext: version || nonce || AES-GCM output (with its tag).
const (
	versionSize = 4
	nonceSize   = 12
	tagSize     = 16
)

// Protector encrypts personal data (phone, ID number, e-mail, real name) for
// storage, and makes the keyed blind indexes by which it is looked up.
//
// Each kind of data has its own keys, derived with HKDF-SHA256: the sealing
// key of version v from Secrets[v] with info "unid pii "+kind, the index key
// from IndexSecret with info "unid index "+kind, the MAC key of a purpose
// from IndexSecret with info "unid mac "+purpose. A Protector is safe for
// concurrent use.
type Protector struct {
	current     uint32
	secrets     map[uint32][]byte
	indexSecret []byte
	aeads       sync.Map // aeadID → cipher.AEAD
	macKeys     sync.Map // HKDF info → []byte
}

type aeadID struct {
	version uint32
	kind    string
}

// NewProtector returns a Protector with a copy of k.
func NewProtector(k Keys) (*Protector, error) {
	if err := k.Validate(); err != nil {
		return nil, err
	}
	p := &Protector{current: k.Current, secrets: make(map[uint32][]byte, len(k.Secrets)), indexSecret: slices.Clone(k.IndexSecret)}
	for v, s := range k.Secrets {
		p.secrets[v] = slices.Clone(s)
	}
	return p, nil
}

// String keeps the keys out of anything that prints a Protector.
func (p *Protector) String() string { return fmt.Sprintf("account.Protector{Current: %d}", p.current) }

// aead returns the AES-256-GCM of kind with key version v.
func (p *Protector) aead(v uint32, kind string) (cipher.AEAD, error) {
	id := aeadID{v, kind}
	if a, ok := p.aeads.Load(id); ok {
		return a.(cipher.AEAD), nil
	}
	secret, ok := p.secrets[v]
	if !ok {
		return nil, fmt.Errorf("%w: %d", ErrKeyVersion, v)
	}
	key, err := hkdf.Key(sha256.New, secret, nil, "unid pii "+kind, 32)
	if err != nil {
		return nil, fmt.Errorf("account: derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("account: %w", err)
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("account: %w", err)
	}
	p.aeads.Store(id, a)
	return a, nil
}

// macKey returns the HMAC key derived from IndexSecret with info.
func (p *Protector) macKey(info string) []byte {
	if k, ok := p.macKeys.Load(info); ok {
		return k.([]byte)
	}
	k, err := hkdf.Key(sha256.New, p.indexSecret, nil, info, 32)
	if err != nil {
		panic(err) // only for a key length HKDF-SHA256 cannot give; 32 always fits
	}
	p.macKeys.Store(info, k)
	return k
}

// Seal encrypts value, a personal datum of kind (FieldPhone, FieldIDNumber,
// ...), in normalised form, for storage. Cipher is the 4-byte big-endian key
// version, a random 12-byte nonce and the AES-256-GCM ciphertext with kind
// as additional data, so that a phone's ciphertext cannot be passed off as
// an ID number's. Index is Index(kind, value); clear it for data that is
// never looked up (real names), so that equal values cannot be spotted. An
// empty value gives a zero Sealed.
func (p *Protector) Seal(kind, value string) (store.Sealed, error) {
	if value == "" {
		return store.Sealed{}, nil
	}
	a, err := p.aead(p.current, kind)
	if err != nil {
		return store.Sealed{}, err
	}
	out := make([]byte, versionSize+nonceSize, versionSize+nonceSize+len(value)+tagSize)
	binary.BigEndian.PutUint32(out, p.current)
	nonce := out[versionSize:]
	rand.Read(nonce)
	out = a.Seal(out, nonce, []byte(value), []byte(kind))
	return store.Sealed{Cipher: out, Index: p.Index(kind, value)}, nil
}

// Open decrypts what Seal sealed as kind, with whichever key version sealed
// it. A zero Sealed opens to "". It fails with ErrKeyVersion when the version
// is not in the keys, and ErrOpen when the ciphertext was altered, is of
// another kind or another key.
func (p *Protector) Open(kind string, s store.Sealed) (string, error) {
	if len(s.Cipher) == 0 {
		return "", nil
	}
	if len(s.Cipher) < versionSize+nonceSize+tagSize {
		return "", fmt.Errorf("%w: %d bytes is too short", ErrOpen, len(s.Cipher))
	}
	a, err := p.aead(binary.BigEndian.Uint32(s.Cipher), kind)
	if err != nil {
		return "", err
	}
	nonce := s.Cipher[versionSize : versionSize+nonceSize]
	plain, err := a.Open(nil, nonce, s.Cipher[versionSize+nonceSize:], []byte(kind))
	if err != nil {
		return "", ErrOpen
	}
	return string(plain), nil
}

// NeedsReseal reports whether s was sealed with another key version than
// the current one, and so should be opened and sealed again after a key
// rotation. A zero or malformed Sealed does not need it.
func (p *Protector) NeedsReseal(s store.Sealed) bool {
	return len(s.Cipher) >= versionSize && binary.BigEndian.Uint32(s.Cipher) != p.current
}

// Index returns the blind index of a personal datum of kind in normalised
// form: HMAC-SHA256 (32 bytes) keyed by a key derived from IndexSecret for
// kind. It is the same across key rotations, so lookups and uniqueness keep
// working; it is nil for an empty value, which matches nothing.
func (p *Protector) Index(kind, normalized string) []byte {
	if normalized == "" {
		return nil
	}
	m := hmac.New(sha256.New, p.macKey("unid index "+kind))
	io.WriteString(m, normalized)
	return m.Sum(nil)
}

// SameMAC reports whether two blind indexes or keyed hashes (Index, MAC)
// are one, in constant time; an empty one (no value) matches nothing.
func SameMAC(a, b []byte) bool { return len(a) > 0 && hmac.Equal(a, b) }

// MAC is a keyed hash (HMAC-SHA256, 32 bytes) of parts under a purpose, for
// values that must be compared but not stored in the clear: SMS codes,
// rate-limit keys of identifiers and IPs. Each purpose has its own key, and
// every part is prefixed with its 8-byte length, so ("ab", "c") and
// ("a", "bc") differ.
func (p *Protector) MAC(purpose string, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, p.macKey("unid mac "+purpose))
	var n [8]byte
	for _, part := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		m.Write(n[:])
		m.Write(part)
	}
	return m.Sum(nil)
}

// keyFile is the JSON form of a key file.
type keyFile struct {
	Note string `json:"note"`
	Keys
}

const keyFileNote = "unid personal-data keys. Without this file the encrypted personal data cannot be read: back it up apart from the database, give every instance the same file, and never share it."

// LoadKeyFile reads keys written by WriteKeyFile. It refuses a file that
// group or others may read or write (except on Windows): chmod 600 it. A
// missing file gives an error that matches fs.ErrNotExist.
func LoadKeyFile(path string) (Keys, error) {
	f, err := os.Open(path)
	if err != nil {
		return Keys{}, fmt.Errorf("account: key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Keys{}, fmt.Errorf("account: key file: %w", err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return Keys{}, fmt.Errorf("account: key file %s has mode %v: it must be readable by its owner only (chmod 600)", path, fi.Mode().Perm())
	}
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return Keys{}, fmt.Errorf("account: key file: %w", err)
	}
	var kf keyFile
	if err := json.Unmarshal(data, &kf); err != nil {
		return Keys{}, fmt.Errorf("account: key file %s: %w", path, err)
	}
	if err := kf.Keys.Validate(); err != nil {
		return Keys{}, fmt.Errorf("account: key file %s: %w", path, err)
	}
	return kf.Keys, nil
}

// WriteKeyFile writes k to a new file at path as JSON, mode 0600, creating
// missing parent directories with mode 0700. It never replaces an existing
// file (the error matches fs.ErrExist): replacing a key file would make all
// data sealed with it unreadable. The file is written under a temporary name
// in the same directory, synced, and then linked into place (renamed where
// the file system has no hard links), so a crash leaves either no key file
// or a whole one.
func WriteKeyFile(path string, k Keys) error {
	if err := k.Validate(); err != nil {
		return err
	}
	data, err := json.MarshalIndent(keyFile{Note: keyFileNote, Keys: k}, "", "  ")
	if err != nil {
		return fmt.Errorf("account: key file: %w", err)
	}
	data = append(data, '\n')
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("account: key file directory: %w", err)
	}
	exists := func() error { return fmt.Errorf("account: key file %s: %w; it is never replaced", path, fs.ErrExist) }
	if _, err := os.Lstat(path); err == nil {
		return exists()
	}
	tmp, err := os.CreateTemp(dir, ".unid-key-*.tmp")
	if err != nil {
		return fmt.Errorf("account: key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := writeSynced(tmp, data); err != nil {
		return fmt.Errorf("account: key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return exists()
		}
		if _, statErr := os.Lstat(path); statErr == nil {
			return exists()
		}
		if err := os.Rename(tmp.Name(), path); err != nil {
			return fmt.Errorf("account: key file: %w", err)
		}
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // make the new name durable; not every system can sync a directory
		d.Close()
	}
	return nil
}

func writeSynced(f *os.File, data []byte) error {
	if err := f.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// LoadOrCreateKeyFile loads the key file at path, or creates one with new
// keys if there is none; created says which. Meant for first runs in
// development: in production every instance must share one file made once
// (with GenerateKeys and WriteKeyFile) and backed up.
func LoadOrCreateKeyFile(path string) (Keys, bool, error) {
	k, err := LoadKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, false, err
	}
	if k, err = GenerateKeys(); err != nil {
		return Keys{}, false, err
	}
	if err := WriteKeyFile(path, k); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process was quicker
			k, err := LoadKeyFile(path)
			return k, false, err
		}
		return Keys{}, false, err
	}
	return k, true, nil
}
