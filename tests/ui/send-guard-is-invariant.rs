// `SendGuard<T>` is invariant in `T`: a guard cannot be shortened to a type that
// differs in a lifetime, which might not be `Send` where the original was.
use opkit::__private::SendGuard;

fn shorten<'a>(guard: SendGuard<&'static str>) -> SendGuard<&'a str> {
    guard
}

fn main() {
    let _ = shorten(SendGuard::new("text"));
}
