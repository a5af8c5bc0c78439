package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sentry-access/sentry-access/internal/sentryaccess"
)

// bucketDashboardUsers holds who has signed in to the dashboard: lowercased
// email → dashboardUserRecord.
const bucketDashboardUsers = "dashboard_users"

// dashboardUserRecordVersion is the version of dashboardUserRecord.
const dashboardUserRecordVersion = 1

func ensureUserBuckets(tx *bolt.Tx) error {
	if _, err := tx.CreateBucketIfNotExists([]byte(bucketDashboardUsers)); err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketDashboardUsers, err)
	}
	return nil
}

// DashboardUser is someone who signed in to the dashboard, with the role
// the IdP gave at the last sign-in.
type DashboardUser struct {
	Email     string
	Name      string
	Role      sentryaccess.Role
	LastLogin time.Time
	// Logins counts the sign-ins recorded.
	Logins int
}

// dashboardUserRecord is the on-disk form of a DashboardUser.
type dashboardUserRecord struct {
	V         int               `json:"v"`
	Email     string            `json:"email"`
	Name      string            `json:"name,omitempty"`
	Role      sentryaccess.Role `json:"role"`
	LastLogin time.Time         `json:"lastLogin"`
	Logins    int               `json:"logins"`
}

// DashboardUsers records who signs in to the dashboard (it implements
// session.Logins). Dashboard roles come from the IdP at each sign-in, so
// this is all the dashboard knows of its users. Get it with
// Store.DashboardUsers.
type DashboardUsers struct{ s *Store }

// DashboardUsers returns the store's record of dashboard sign-ins.
func (s *Store) DashboardUsers() *DashboardUsers { return &DashboardUsers{s: s} }

// RecordLogin records a sign-in of email with role at at.
func (u *DashboardUsers) RecordLogin(ctx context.Context, email, name string, role sentryaccess.Role, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	key := strings.ToLower(strings.TrimSpace(email))
	if key == "" {
		return fmt.Errorf("record sign-in: empty email: %w", invalid())
	}
	err := u.s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketDashboardUsers))
		var rec dashboardUserRecord
		if v := b.Get([]byte(key)); v != nil {
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode %s: %w", key, err)
			}
		}
		rec.V, rec.Email, rec.Name, rec.Role, rec.LastLogin = dashboardUserRecordVersion, email, name, role, at.UTC()
		rec.Logins++
		data, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return b.Put([]byte(key), data)
	})
	if err != nil {
		return fmt.Errorf("record sign-in: %w", err)
	}
	return nil
}

// List returns every recorded user in email order.
func (u *DashboardUsers) List(ctx context.Context) ([]DashboardUser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []DashboardUser
	err := u.s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketDashboardUsers)).ForEach(func(k, v []byte) error {
			var rec dashboardUserRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode %s: %w", k, err)
			}
			out = append(out, DashboardUser{Email: rec.Email, Name: rec.Name, Role: rec.Role, LastLogin: rec.LastLogin, Logins: rec.Logins})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list dashboard users: %w", err)
	}
	return out, nil
}
