// Thread-local last error and argument decoding shared by all entry points.
#include "shim_internal.h"

namespace tb {

static thread_local std::string last_error;

void set_error(const std::string& message) { last_error = message; }

c10::ScalarType scalar_type(int32_t code) {
  switch (static_cast<c10::ScalarType>(code)) {
    case c10::ScalarType::Byte:
    case c10::ScalarType::Char:
    case c10::ScalarType::Short:
    case c10::ScalarType::Int:
    case c10::ScalarType::Long:
    case c10::ScalarType::Half:
    case c10::ScalarType::Float:
    case c10::ScalarType::Double:
    case c10::ScalarType::Bool:
    case c10::ScalarType::BFloat16:
      return static_cast<c10::ScalarType>(code);
    default:
      throw std::invalid_argument("unsupported dtype code " + std::to_string(code));
  }
}

c10::Device device(int32_t type, int32_t index) {
  if (type != static_cast<int32_t>(c10::DeviceType::CPU) && type != static_cast<int32_t>(c10::DeviceType::CUDA))
    throw std::invalid_argument("unsupported device type code " + std::to_string(type));
  if (index < -1 || index > 127) throw std::invalid_argument("device index out of range: " + std::to_string(index));
  if (type == static_cast<int32_t>(c10::DeviceType::CPU)) return c10::Device(c10::DeviceType::CPU);
  return c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(index));
}

}  // namespace tb

TB_API const char* tb_last_error(void) { return tb::last_error.c_str(); }
