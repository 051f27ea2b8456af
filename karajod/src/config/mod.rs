pub mod duration; pub mod ini;
