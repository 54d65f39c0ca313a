// "Did you mean" suggestions for misspelt keys and names.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gcsim {

// Edit distance: insert, delete, substitute, swap two neighbours; all cost 1.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The closest candidate if it is close enough to be a plausible typo
// (distance <= max(1, len/3)), else an empty string.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

// ", did you mean 'x'?" or "" when nothing is close; then the allowed list.
std::string suggestion_suffix(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace gcsim
