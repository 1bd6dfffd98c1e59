//! Simulator placeholder
