package sqlstore

import (
	"testing"
	"testing/fstest"
)

func TestLoadMigrations(t *testing.T) {
	file := &fstest.MapFile{Data: []byte("CREATE TABLE t (x INTEGER);")}
	tests := []struct {
		name     string
		files    fstest.MapFS
		wantErr  bool
		wantVers []int
	}{
		{"none", fstest.MapFS{}, false, nil},
		{"in order", fstest.MapFS{"0002_b.sql": file, "0001_a.sql": file, "README": file}, false, []int{1, 2}},
		{"gap", fstest.MapFS{"0001_a.sql": file, "0003_c.sql": file}, true, nil},
		{"duplicate", fstest.MapFS{"0001_a.sql": file, "0001_b.sql": file}, true, nil},
		{"not numbered", fstest.MapFS{"init.sql": file}, true, nil},
		{"zero", fstest.MapFS{"0000_a.sql": file}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := loadMigrations(tt.files)
			if (err != nil) != tt.wantErr {
				t.Fatalf("loadMigrations: err = %v, want error %v", err, tt.wantErr)
			}
			var vers []int
			for _, m := range ms {
				vers = append(vers, m.version)
			}
			if !tt.wantErr && len(vers) != len(tt.wantVers) {
				t.Fatalf("versions %v, want %v", vers, tt.wantVers)
			}
			for i := range tt.wantVers {
				if vers[i] != tt.wantVers[i] {
					t.Errorf("versions %v, want %v", vers, tt.wantVers)
				}
			}
		})
	}
}
