//! JWT login tokens: HS256, `sub` = the user name, `exp` = issue time + 1 h.

use core::fmt;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a token is valid (1 h).
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// Length of the random secret made when none is configured.
pub const RANDOM_SECRET_BYTES: usize = 32;

/// The claims of a demo token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user name given at login.
    pub sub: String,
    /// Issued at, seconds since the Unix epoch.
    pub iat: u64,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
}

/// Why a token could not be made or was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// The configured secret is empty.
    EmptySecret,
    /// The operating system gave no random bytes for a secret.
    NoRandomness,
    /// Signing failed.
    Sign(String),
    /// The token is malformed, badly signed, expired or lacks `sub`/`exp`.
    InvalidToken(String),
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::EmptySecret => f.write_str("the JWT secret is empty"),
            AuthError::NoRandomness => f.write_str("no randomness available for a JWT secret"),
            AuthError::Sign(e) => write!(f, "cannot sign token: {e}"),
            AuthError::InvalidToken(e) => write!(f, "invalid token: {e}"),
        }
    }
}

impl std::error::Error for AuthError {}

/// The HS256 keys (one shared secret) and the validation rules.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtKeys(HS256, secret hidden)")
    }
}

impl JwtKeys {
    /// Keys from a secret (refused when empty).
    pub fn from_secret(secret: &[u8]) -> Result<Self, AuthError> {
        if secret.is_empty() {
            return Err(AuthError::EmptySecret);
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        // One process issues and checks: no clock skew to allow for.
        validation.leeway = 0;
        Ok(JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        })
    }

    /// Keys from a fresh random secret: tokens die with the process.
    pub fn random() -> Result<Self, AuthError> {
        let mut secret = [0u8; RANDOM_SECRET_BYTES];
        getrandom::fill(&mut secret).map_err(|_| AuthError::NoRandomness)?;
        Self::from_secret(&secret)
    }

    /// A token for `user`, issued at `now`, valid for [`TOKEN_LIFETIME`].
    pub fn issue(&self, user: &str, now: SystemTime) -> Result<String, AuthError> {
        let iat = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let claims = Claims {
            sub: user.to_owned(),
            iat,
            exp: iat.saturating_add(TOKEN_LIFETIME.as_secs()),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AuthError::Sign(e.to_string()))
    }

    /// Checks signature (HS256 only), expiry and the required claims.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| AuthError::InvalidToken(e.to_string()))
    }
}
