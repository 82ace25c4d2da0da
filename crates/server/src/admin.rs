//! What the CLI does on the service's tables (`leaktrace user …`, `leaktrace audit verify`):
//! each change is audited with the user `cli`.

use std::path::Path;

use crate::audit::{self, Action, ChainError, Verified};
use crate::auth::{self, Role};
use crate::store::User;
use crate::{ServerError, Store};

/// Create an account (the first admin comes from here).
pub fn add_user(home: &Path, name: &str, role: Role, password: &str) -> Result<(), ServerError> {
    auth::check_user_name(name)?;
    auth::check_password_policy(password)?;
    let hash = auth::hash_password(password)?;
    let mut store = Store::open(home)?;
    store.add_user(name, role, &hash)?;
    audit::append(
        &mut store.conn,
        "cli",
        Action::UserAdded,
        &format!("user:{name} role:{}", role.as_str()),
    )?;
    Ok(())
}

/// Set a new password (and clear a lockout).
pub fn set_password(home: &Path, name: &str, password: &str) -> Result<(), ServerError> {
    auth::check_password_policy(password)?;
    let hash = auth::hash_password(password)?;
    let mut store = Store::open(home)?;
    if !store.set_password(name, &hash)? {
        return Err(ServerError::Input(format!("no user {name:?}")));
    }
    audit::append(
        &mut store.conn,
        "cli",
        Action::PasswordChanged,
        &format!("user:{name}"),
    )?;
    Ok(())
}

/// Create an API token for a user; returns it (shown once, stored hashed).
pub fn new_token(home: &Path, name: &str, label: &str) -> Result<String, ServerError> {
    let mut store = Store::open(home)?;
    let user = store
        .user(name)?
        .ok_or_else(|| ServerError::Input(format!("no user {name:?}")))?;
    let token = auth::new_secret("lt_")?;
    store.add_token(&auth::token_hash(&token), user.id, label)?;
    audit::append(
        &mut store.conn,
        "cli",
        Action::TokenCreated,
        &format!("user:{name}"),
    )?;
    Ok(token)
}

/// Every account.
pub fn users(home: &Path) -> Result<Vec<User>, ServerError> {
    Store::open(home)?.users()
}

/// Verify the audit chain of a workspace.
pub fn verify_audit(home: &Path) -> Result<Result<Verified, ChainError>, ServerError> {
    let store = Store::open(home)?;
    audit::verify(&store.conn)
}
