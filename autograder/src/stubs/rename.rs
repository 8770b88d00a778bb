//! The stub's names: `lessonN-solution` and `lessonN_solution` become
//! `lessonN`, and a binary `X-solution` becomes `X`.

/// Renames a solution's names to the stub's: `lessonN-solution` and
/// `lessonN_solution` become `lessonN`, and each of `bins` (binary names
/// ending in `-solution`) loses that suffix.
#[derive(Debug, Clone, Default)]
pub struct Renamer {
    bins: Vec<String>,
}

impl Renamer {
    /// The renamer for a solution whose `Cargo.toml` reads `cargo_toml`.
    pub fn for_manifest(cargo_toml: &str) -> Result<Self, String> {
        let table: toml::Table = cargo_toml
            .parse()
            .map_err(|e: toml::de::Error| e.to_string())?;
        let mut bins: Vec<String> = table
            .get("bin")
            .and_then(|b| b.as_array())
            .into_iter()
            .flatten()
            .filter_map(|bin| bin.get("name")?.as_str())
            .filter(|name| name.ends_with("-solution"))
            .map(str::to_string)
            .collect();
        // Longest first, so `a-b-solution` is renamed before `b-solution`.
        bins.sort_by_key(|b| std::cmp::Reverse(b.len()));
        Ok(Renamer { bins })
    }

    pub fn rename(&self, text: &str) -> String {
        let mut text = rename_lessons(text);
        for bin in &self.bins {
            text = text.replace(bin.as_str(), &bin[..bin.len() - "-solution".len()]);
        }
        text
    }
}

/// `lessonN-solution` / `lessonN_solution` → `lessonN`, for any number N.
fn rename_lessons(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("lesson") {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        let digits = from["lesson".len()..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        let name_len = "lesson".len() + digits;
        let suffix = &from[name_len..];
        out.push_str(&from[..name_len]);
        rest = if digits > 0 && (suffix.starts_with("-solution") || suffix.starts_with("_solution"))
        {
            &suffix["-solution".len()..]
        } else {
            suffix
        };
    }
    out.push_str(rest);
    out
}
