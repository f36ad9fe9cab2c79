package oidc

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// storageReached are the op.Storage (and op.ClientCredentialsStorage)
// methods that the op functions unid's handlers call do reach: client
// lookup and authentication, the code and refresh-token lookups.
var storageReached = []string{
	"GetClientByClientID", "AuthorizeClientIDSecret", "AuthRequestByCode",
	"TokenRequestByRefreshToken", "ClientCredentials", "ClientCredentialsTokenRequest",
}

// storageNotReached are the rest: each must fail loudly, naming itself.
// Reading a new zitadel/oidc release means checking that none of these is
// now called by op.ParseAuthorizeRequest, op.AuthRequestError,
// op.AuthResponseURL, op.AuthResponseFormPost or
// op.Validate{AccessToken,RefreshToken,ClientCredentials}Request;
// TestOPConformance fails when one is.
var storageNotReached = map[string]func(context.Context, *opStorage) error{
	"AuthRequestByID": func(ctx context.Context, s *opStorage) error {
		_, err := s.AuthRequestByID(ctx, "r")
		return err
	},
	"CreateAuthRequest": func(ctx context.Context, s *opStorage) error {
		_, err := s.CreateAuthRequest(ctx, nil, "u")
		return err
	},
	"SaveAuthCode":      func(ctx context.Context, s *opStorage) error { return s.SaveAuthCode(ctx, "r", "c") },
	"DeleteAuthRequest": func(ctx context.Context, s *opStorage) error { return s.DeleteAuthRequest(ctx, "r") },
	"CreateAccessToken": func(ctx context.Context, s *opStorage) error {
		_, _, err := s.CreateAccessToken(ctx, nil)
		return err
	},
	"CreateAccessAndRefreshTokens": func(ctx context.Context, s *opStorage) error {
		_, _, _, err := s.CreateAccessAndRefreshTokens(ctx, nil, "")
		return err
	},
	"TerminateSession": func(ctx context.Context, s *opStorage) error { return s.TerminateSession(ctx, "u", "c") },
	"RevokeToken": func(ctx context.Context, s *opStorage) error {
		if err := s.RevokeToken(ctx, "t", "u", "c"); err != nil {
			return err
		}
		return nil
	},
	"GetRefreshTokenInfo": func(ctx context.Context, s *opStorage) error {
		_, _, err := s.GetRefreshTokenInfo(ctx, "c", "t")
		return err
	},
	"SetUserinfoFromScopes": func(ctx context.Context, s *opStorage) error {
		return s.SetUserinfoFromScopes(ctx, nil, "u", "c", nil)
	},
	"SetUserinfoFromToken": func(ctx context.Context, s *opStorage) error {
		return s.SetUserinfoFromToken(ctx, nil, "t", "u", "o")
	},
	"SetIntrospectionFromToken": func(ctx context.Context, s *opStorage) error {
		return s.SetIntrospectionFromToken(ctx, nil, "t", "u", "c")
	},
	"GetPrivateClaimsFromScopes": func(ctx context.Context, s *opStorage) error {
		_, err := s.GetPrivateClaimsFromScopes(ctx, "u", "c", nil)
		return err
	},
	"GetKeyByIDAndClientID": func(ctx context.Context, s *opStorage) error {
		_, err := s.GetKeyByIDAndClientID(ctx, "k", "c")
		return err
	},
	"ValidateJWTProfileScopes": func(ctx context.Context, s *opStorage) error {
		_, err := s.ValidateJWTProfileScopes(ctx, "u", nil)
		return err
	},
	"SigningKey": func(ctx context.Context, s *opStorage) error {
		_, err := s.SigningKey(ctx)
		return err
	},
	"SignatureAlgorithms": func(ctx context.Context, s *opStorage) error {
		_, err := s.SignatureAlgorithms(ctx)
		return err
	},
	"KeySet": func(ctx context.Context, s *opStorage) error {
		_, err := s.KeySet(ctx)
		return err
	},
	"Health": func(ctx context.Context, s *opStorage) error { return s.Health(ctx) },
}

// TestStorageNotReached calls every op.Storage method unid does not serve
// through op and expects an error that names the method, logged at error
// level; and it checks that the two lists cover op.Storage exactly, so a
// method a new release adds is sorted into one of them.
func TestStorageNotReached(t *testing.T) {
	var logs bytes.Buffer
	s := &opStorage{p: &Provider{log: slog.New(slog.NewTextHandler(&logs, nil))}}
	for name, call := range storageNotReached {
		t.Run(name, func(t *testing.T) {
			logs.Reset()
			err := call(context.Background(), s)
			if !errors.Is(err, errNotReached) || !strings.Contains(err.Error(), "op.Storage."+name+":") {
				t.Errorf("%s = %v; want the not-reached error naming the method", name, err)
			}
			if line := logs.String(); !strings.Contains(line, "level=ERROR") || !strings.Contains(line, "method="+name) {
				t.Errorf("%s logged %q; want an error naming the method", name, line)
			}
		})
	}

	var methods []string
	for _, typ := range []reflect.Type{reflect.TypeFor[op.Storage](), reflect.TypeFor[op.ClientCredentialsStorage]()} {
		for m := range typ.Methods() {
			if !slices.Contains(methods, m.Name) {
				methods = append(methods, m.Name)
			}
		}
	}
	for _, m := range methods {
		_, unused := storageNotReached[m]
		if used := slices.Contains(storageReached, m); used == unused {
			t.Errorf("op.Storage.%s: reached %v, listed as not reached %v; it must be in exactly one list", m, used, unused)
		}
	}
	for name := range storageNotReached {
		if !slices.Contains(methods, name) {
			t.Errorf("%s is not a method of op.Storage any more", name)
		}
	}
}
