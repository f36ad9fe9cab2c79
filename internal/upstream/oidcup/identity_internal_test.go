package oidcup

import (
	"testing"

	"unid/internal/config"
	"unid/internal/upstream"
)

func TestIdentityMapping(t *testing.T) {
	p := New(config.Upstream{ID: "gov", Issuer: "https://sso.example.gov.cn"}, nil, nil)
	base := upstream.Identity{Provider: "gov", App: "https://sso.example.gov.cn", Subject: "s1"}
	tests := []struct {
		name string
		c    claimSet
		want func(*upstream.Identity)
	}{
		{"subject only", claimSet{Sub: "s1"}, func(*upstream.Identity) {}},
		{"nickname before name", claimSet{Sub: "s1", PreferredUsername: "zhang_san", Nickname: "小张", Name: "张三"},
			func(i *upstream.Identity) { i.LoginName, i.Nickname = "zhang_san", "小张" }},
		{"name without nickname", claimSet{Sub: "s1", Name: "张三"}, func(i *upstream.Identity) { i.Nickname = "张三" }},
		{"mainland mobile with +86", claimSet{Sub: "s1", PhoneNumber: "+86 138-1234-5678"}, func(i *upstream.Identity) { i.Phone = "13812345678" }},
		{"mainland mobile bare", claimSet{Sub: "s1", PhoneNumber: "13812345678"}, func(i *upstream.Identity) { i.Phone = "13812345678" }},
		{"Hong Kong number", claimSet{Sub: "s1", PhoneNumber: "+852 9123 4567"}, func(*upstream.Identity) {}},
		{"United States number", claimSet{Sub: "s1", PhoneNumber: "+1 415 555 0100"}, func(*upstream.Identity) {}},
		{"mainland landline", claimSet{Sub: "s1", PhoneNumber: "+86 531 8888 8888"}, func(*upstream.Identity) {}},
		{"avatar over https", claimSet{Sub: "s1", Picture: "https://img.example.cn/a.png"}, func(i *upstream.Identity) { i.Avatar = "https://img.example.cn/a.png" }},
		{"no script avatar", claimSet{Sub: "s1", Picture: "javascript:alert(1)"}, func(*upstream.Identity) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := base
			tt.want(&want)
			if got := p.identity(tt.c); got != want {
				t.Errorf("identity = %+v; want %+v", got, want)
			}
		})
	}
}
