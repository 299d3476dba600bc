// A YAML document as a tree that remembers where every key and value came from (file, line,
// column), so that errors can name them after `base:` merging and `--set` overrides.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace aimc {

struct SourceLoc {
    std::string file;  // a path, or "--set key=value" for command-line overrides
    int line = 0;      // 1-based; 0 when there is no line (command line)
    int col = 0;       // 1-based
    std::string str() const;  // "file:line:col" or "file"
};

struct YamlNode {
    enum class Type { Null, Scalar, Map, Seq };
    Type type = Type::Null;
    std::string scalar;
    SourceLoc loc;      // where the value starts
    SourceLoc key_loc;  // where its key is (map entries only)
    std::vector<std::pair<std::string, YamlNode>> map;  // in document order
    std::vector<YamlNode> seq;

    bool is_map() const { return type == Type::Map; }
    bool is_scalar() const { return type == Type::Scalar; }
    const YamlNode* find(const std::string& key) const;
    YamlNode* find(const std::string& key);
    const char* type_name() const;  // "a mapping", "a list", "a scalar", "nothing"
};

// Parses one YAML file. Throws InputError ("file:line:col: YAML syntax error: ...").
YamlNode load_yaml_file(const std::string& path);
YamlNode parse_yaml_text(const std::string& text, const std::string& name);

// Loads a config file following its `base:` chain (paths relative to the file that names them);
// the file's own keys override its base's, recursively for mappings. A mapping whose `kind:`
// differs from the base's replaces the base's mapping whole (the old kind's keys do not apply).
YamlNode load_with_base(const std::string& path);
// The same for text already in memory: `name` stands for its path in messages, and a `base:` in
// it is relative to the folder of `name`.
YamlNode parse_with_base(const std::string& text, const std::string& name);

// Applies one command-line override "a.b.c=value". Throws UsageError when the text has no '='
// or an empty key, InputError when a path crosses a non-mapping value.
void apply_override(YamlNode& root, const std::string& assignment);

}  // namespace aimc
