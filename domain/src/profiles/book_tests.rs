//! Profile management rules.

use super::test_support::*;
use super::*;
use crate::presence::Settable;

#[test]
fn names_are_unique_across_user_and_system_profiles() {
    let mut b = book();
    let spec = ProfileSpec::default();
    assert_eq!(
        b.create(Editor::User, name("Lunch"), Scope::User, spec.clone()),
        Err(ProfileError::Duplicate("Lunch".into()))
    );
    assert!(matches!(
        b.create(Editor::User, name("Available"), Scope::User, spec),
        Err(ProfileError::Duplicate(_))
    ));
}

#[test]
fn users_cannot_delete_or_modify_system_profiles_but_the_admin_can() {
    let mut b = book();
    let n = name("Do not disturb");
    assert!(matches!(
        b.delete(Editor::User, &n, false),
        Err(ProfileError::SystemProfile(_))
    ));
    assert!(matches!(
        b.update(Editor::User, &n, ProfileSpec::default(), false),
        Err(ProfileError::SystemProfile(_))
    ));
    assert!(matches!(
        b.create(
            Editor::User,
            name("Global"),
            Scope::System,
            ProfileSpec::default()
        ),
        Err(ProfileError::SystemProfile(_))
    ));
    let spec = ProfileSpec {
        availability: Settable::Busy,
        ..ProfileSpec::default()
    };
    b.update(Editor::Admin, &n, spec, false).unwrap();
    assert_eq!(b.get(&n).unwrap().spec.availability, Settable::Busy);
}

#[test]
fn an_active_profile_cannot_be_edited_or_deleted() {
    let mut b = book();
    let n = name("Lunch");
    assert!(matches!(
        b.update(Editor::User, &n, ProfileSpec::default(), true),
        Err(ProfileError::Active(_))
    ));
    assert!(matches!(
        b.delete(Editor::User, &n, true),
        Err(ProfileError::Active(_))
    ));
    assert!(matches!(
        b.set_step_enabled(Editor::User, &n, Chain::OnEnter, 0, false, true),
        Err(ProfileError::Active(_))
    ));
    b.delete(Editor::User, &n, false).unwrap();
    assert!(b.get(&n).is_none());
    assert!(matches!(
        b.delete(Editor::User, &n, false),
        Err(ProfileError::NotFound(_))
    ));
}

#[test]
fn steps_can_be_disabled_without_deleting_them() {
    let mut b = book();
    let n = name("Home office");
    b.set_step_enabled(Editor::User, &n, Chain::OnEnter, 0, false, false)
        .unwrap();
    let p = b.get(&n).unwrap();
    assert_eq!(p.spec.on_enter.len(), 3);
    assert_eq!(p.spec.actions(Chain::OnEnter).count(), 1);
    assert_eq!(
        b.set_step_enabled(Editor::User, &n, Chain::OnLeave, 9, false, false),
        Err(ProfileError::NoSuchStep { index: 9 })
    );
}

#[test]
fn bounds_are_validated() {
    let mut b = book();
    let long = ProfileSpec {
        on_leave: vec![Step::new(Action::ClearForwarding); MAX_CHAIN_STEPS + 1],
        ..ProfileSpec::default()
    };
    assert!(matches!(
        b.create(Editor::User, name("Long"), Scope::User, long),
        Err(ProfileError::ChainTooLong {
            chain: Chain::OnLeave,
            ..
        })
    ));
    for i in b.user_profiles().count()..MAX_USER_PROFILES {
        b.create(
            Editor::User,
            name(&format!("p{i}")),
            Scope::User,
            ProfileSpec::default(),
        )
        .unwrap();
    }
    assert!(matches!(
        b.create(
            Editor::User,
            name("one more"),
            Scope::User,
            ProfileSpec::default()
        ),
        Err(ProfileError::TooManyProfiles { .. })
    ));
}

#[test]
fn a_stored_book_keeps_system_profiles_system() {
    let mut user = default_system_profiles();
    user.truncate(1);
    let b = ProfileBook::new(default_system_profiles(), user);
    assert_eq!(b.all().len(), 2);
    assert!(b.all().iter().all(|p| p.scope == Scope::System));
}
