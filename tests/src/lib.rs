pub use opkit;
